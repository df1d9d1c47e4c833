/* test_sync_kafka.c - cmocka tests of the sync daemon's Kafka layer
 * (sync/kafka.h) against a real broker: the group setup starts one with
 * tests/scripts/kafka.sh (TEST_KAFKA_SCRIPT overrides the path; run from
 * the repository root) in a temporary directory and creates the topics; the
 * group teardown stops it, and a watchdog child does so when the binary dies
 * any other way (an abort, a signal). The tests run in order: the consumer
 * tests read the 10,000 messages test_produce_flush wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "kafka.h"
#include "log.h"

#define MAIN_TOPIC "articles-test"
#define DLQ_TOPIC MAIN_TOPIC ".dlq"
#define REBAL_TOPIC "articles-rebal"
#define LAG_TOPIC "articles-lag"
#define N_MAIN 10000
#define N_KEYS 500 /* 20 messages per key, so per-key order means something */
#define VALUE_PAD 300
#define N_REBAL_FIRST 2000
#define N_REBAL 6000

static char tmpdir[] = "/tmp/test_sync_kafka.XXXXXX";
static char broker_dir[sizeof tmpdir + 16];
static char bootstrap[128];
static const char *script;
static int watchdog_fd = -1; /* its other end: a child that stops the broker */
static pid_t watchdog_pid = -1;

/* ---- helpers ------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Message n of a stream: key = article id, value = JSON naming n and the
 * key, traceparent derived from n. */
static void make_key(int n, char key[16])
{
    snprintf(key, 16, "%d", n % N_KEYS + 1);
}

static void make_value(int n, buf_t *v)
{
    char key[16];
    make_key(n, key);
    buf_reset(v);
    buf_printf(v, "{\"n\":%d,\"id\":%s,\"pad\":\"", n, key);
    for (int i = 0; i < VALUE_PAD; i++)
        buf_putc(v, (char)('a' + (n + i) % 26));
    buf_puts(v, "\"}");
    assert_false(v->failed);
}

static void make_traceparent(int n, char tp[64])
{
    snprintf(tp, 64, "00-0000000000000abc%016llx-%016llx-01", (unsigned long long)n,
             (unsigned long long)n + 1);
}

/* n of a consumed message (from its value), -1 when unreadable. */
static int msg_n(const kafka_message_t *m)
{
    char head[32];
    size_t len = m->valuelen < sizeof head - 1 ? m->valuelen : sizeof head - 1;
    memcpy(head, m->value, len);
    head[len] = '\0';
    int n;
    return sscanf(head, "{\"n\":%d,", &n) == 1 ? n : -1;
}

/* Checks that m is exactly message n as produced. */
static void check_message(const kafka_message_t *m, int n, buf_t *scratch)
{
    char key[16], tp[64];
    make_key(n, key);
    make_value(n, scratch);
    make_traceparent(n, tp);
    assert_int_equal(m->keylen, strlen(key));
    assert_memory_equal(m->key, key, m->keylen);
    assert_int_equal(m->valuelen, scratch->len);
    assert_memory_equal(m->value, scratch->data, m->valuelen);
    assert_non_null(m->traceparent);
    assert_string_equal(m->traceparent, tp);
}

/* Group membership changes show within a second; deliveries give up
 * after 30 s rather than 5 minutes. */
static const char *const consumer_props[] = {"heartbeat.interval.ms=300",
                                             "session.timeout.ms=6000"};
static const char *const producer_props[] = {"message.timeout.ms=30000"};

static kafka_config_t config(const char *topic, const char *group)
{
    return (kafka_config_t){
        .brokers = bootstrap,
        .topic = topic,
        .client_id = "test-sync-kafka",
        .group = group,
        .stats_interval_ms = 200,
        .props = group ? consumer_props : producer_props,
        .nprops = group ? 2 : 1,
    };
}

static kafka_producer_t *new_producer(const char *topic)
{
    kafka_config_t cfg = config(topic, NULL);
    kafka_producer_t *p;
    char err[256] = "";
    int rc = kafka_producer_new(&cfg, &p, err, sizeof err);
    if (rc != 0)
        fail_msg("kafka_producer_new: %d %s", rc, err);
    return p;
}

static kafka_consumer_t *new_consumer(const char *topic, const char *group)
{
    kafka_config_t cfg = config(topic, group);
    kafka_consumer_t *c;
    char err[256] = "";
    int rc = kafka_consumer_new(&cfg, &c, err, sizeof err);
    if (rc != 0)
        fail_msg("kafka_consumer_new: %d %s", rc, err);
    return c;
}

/* Produces messages first..last-1 of a stream with tokens n+1. */
static void produce_range(kafka_producer_t *p, int first, int last)
{
    buf_t v = {0};
    char key[16], tp[64];
    for (int n = first; n < last; n++) {
        make_key(n, key);
        make_value(n, &v);
        make_traceparent(n, tp);
        assert_int_equal(kafka_produce(p, key, strlen(key), v.data, v.len, tp, (uint64_t)n + 1), 0);
    }
    buf_free(&v);
}

/* ---- group setup: the broker ------------------------------------------------------ */

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
    buf_t cmd = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&cmd, fmt, ap);
    va_end(ap);
    int rc = cmd.failed ? -1 : system(cmd.data);
    buf_free(&cmd);
    return rc;
}

/* A child that waits for this process to end, however it ends (a failed
 * assertion, a sanitizer abort, a signal), and then stops the broker: it
 * reads a pipe whose only writer is us (close-on-exec, so the broker and the
 * scripts do not hold it open). Forked before any thread exists. */
static int start_watchdog(void)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        perror("pipe2");
        return -1;
    }
    watchdog_pid = fork();
    if (watchdog_pid < 0) {
        perror("fork");
        return -1;
    }
    if (watchdog_pid == 0) {
        close(fds[1]);
        char c;
        while (read(fds[0], &c, 1) != 0) {
        }
        execlp("sh", "sh", "-c", "sh \"$0\" stop \"$1\"; rmdir \"$2\" 2>/dev/null", script,
               broker_dir, tmpdir, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    watchdog_fd = fds[1];
    return 0;
}

static int start_broker(void **state)
{
    (void)state;
    script = getenv("TEST_KAFKA_SCRIPT");
    if (!script || !*script)
        script = "tests/scripts/kafka.sh";
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(broker_dir, sizeof broker_dir, "%s/broker", tmpdir);
    if (start_watchdog() != 0)
        return -1;
    double t0 = now_s();
    buf_t cmd = {0};
    buf_printf(&cmd, "sh '%s' start '%s'", script, broker_dir);
    FILE *f = popen(cmd.data, "r");
    buf_free(&cmd);
    if (!f || !fgets(bootstrap, sizeof bootstrap, f)) {
        if (f)
            pclose(f);
        fprintf(stderr, "test_sync_kafka: %s start printed no bootstrap address\n", script);
        return -1;
    }
    if (pclose(f) != 0)
        return -1;
    bootstrap[strcspn(bootstrap, "\r\n")] = '\0';
    double t1 = now_s();
    /* The topic tool is a JVM each: start them side by side. */
    int rc = run("sh '%1$s' topic '%2$s' %3$s 4 & a=$!; sh '%1$s' topic '%2$s' %4$s 1 & b=$!; "
                 "sh '%1$s' topic '%2$s' %5$s 4 & c=$!; sh '%1$s' topic '%2$s' %6$s 2 & d=$!; "
                 "wait $a && wait $b && wait $c && wait $d",
                 script, broker_dir, MAIN_TOPIC, DLQ_TOPIC, REBAL_TOPIC, LAG_TOPIC);
    fprintf(stderr, "test_sync_kafka: broker %s up in %.1f s, topics in %.1f s\n", bootstrap,
            t1 - t0, now_s() - t1);
    return rc == 0 ? 0 : -1;
}

static int stop_broker(void **state)
{
    (void)state;
    run("sh '%s' stop '%s'", script, broker_dir);
    if (watchdog_fd >= 0) {
        close(watchdog_fd); /* it finds the broker stopped */
        waitpid(watchdog_pid, NULL, 0);
    }
    rmdir(tmpdir);
    return 0;
}

/* ---- producer ----------------------------------------------------------------------- */

static void test_produce_flush(void **state)
{
    (void)state;
    kafka_producer_t *p = new_producer(MAIN_TOPIC);
    uint64_t confirmed = 1, prev = 0;
    assert_int_equal(kafka_producer_confirmed(p, &confirmed), 0);
    assert_int_equal(confirmed, 0);
    /* Tokens never go back, the confirmed token only moves forward. */
    for (int chunk = 0; chunk < 10; chunk++) {
        produce_range(p, chunk * 1000, (chunk + 1) * 1000);
        kafka_producer_poll(p, 0);
        kafka_producer_confirmed(p, &confirmed);
        assert_true(confirmed >= prev);
        assert_true(confirmed <= (uint64_t)(chunk + 1) * 1000);
        prev = confirmed;
    }
    assert_int_equal(kafka_produce(p, "1", 1, "x", 1, NULL, 5), KAFKA_EINVAL);
    kafka_delivery_summary_t s;
    assert_int_equal(kafka_producer_flush(p, 30000, &s), 0);
    assert_int_equal(s.produced, N_MAIN);
    assert_int_equal(s.delivered, N_MAIN);
    assert_int_equal(s.failed, 0);
    assert_int_equal(s.in_flight, 0);
    assert_int_equal(s.first_error, 0);
    assert_int_equal(s.confirmed, N_MAIN);
    kafka_producer_confirmed(p, &confirmed);
    assert_int_equal(confirmed, N_MAIN);
    assert_int_equal(kafka_producer_failed(p, NULL, 0), 0);
    kafka_producer_free(p);
}

/* A topic that does not exist (auto-creation is off): the message fails
 * for good after message.timeout.ms and the confirmed token stops below
 * it, also when later tokens are fine. */
static void test_delivery_failure(void **state)
{
    (void)state;
    kafka_config_t cfg = config("no-such-topic", NULL);
    const char *props[] = {"message.timeout.ms=1500"};
    cfg.props = props;
    cfg.nprops = 1;
    kafka_producer_t *p;
    char err[256] = "";
    assert_int_equal(kafka_producer_new(&cfg, &p, err, sizeof err), 0);
    assert_int_equal(kafka_produce(p, "1", 1, "v", 1, NULL, 7), 0);
    kafka_delivery_summary_t s;
    assert_int_equal(kafka_producer_flush(p, 10000, &s), KAFKA_EDELIVERY);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.confirmed, 0);
    assert_true(s.first_error_text[0] != '\0');
    assert_int_equal(kafka_producer_failed(p, err, sizeof err), KAFKA_EDELIVERY);
    kafka_producer_free(p);

    /* Properties the guarantees rest on are refused. */
    const char *bad[] = {"acks=1"};
    cfg.props = bad;
    assert_int_equal(kafka_producer_new(&cfg, &p, err, sizeof err), KAFKA_EINVAL);
    assert_non_null(strstr(err, "acks"));
}

/* The group's committed offset of every partition equals its end. */
static void check_committed_all(const char *topic, const char *group, int partitions)
{
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, why, sizeof why), 0);
    assert_int_equal(rd_kafka_conf_set(conf, "group.id", group, why, sizeof why), 0);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
    for (int i = 0; i < partitions; i++)
        rd_kafka_topic_partition_list_add(l, topic, i);
    assert_int_equal(rd_kafka_committed(rk, l, 10000), 0);
    for (int i = 0; i < partitions; i++) {
        int64_t lo, hi;
        assert_int_equal(rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi, 10000), 0);
        assert_int_equal(l->elems[i].err, 0);
        if (l->elems[i].offset != hi)
            fail_msg("%s [%d]: committed %lld, end %lld", topic, i, (long long)l->elems[i].offset,
                     (long long)hi);
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
}

/* ---- consumer ----------------------------------------------------------------------- */

typedef struct tally {
    unsigned char seen[N_MAIN];
    size_t unique, dups;
    int last_n_of_key[N_KEYS + 1];
} tally_t;

static void tally_init(tally_t *t)
{
    memset(t, 0, sizeof *t);
    for (int k = 0; k <= N_KEYS; k++)
        t->last_n_of_key[k] = -1;
}

/* Records a batch; checks each message and per-key order. */
static void tally_batch(tally_t *t, const kafka_message_t *msgs, size_t n, buf_t *scratch)
{
    for (size_t i = 0; i < n; i++) {
        int k = msg_n(&msgs[i]);
        assert_true(k >= 0 && k < N_MAIN);
        check_message(&msgs[i], k, scratch);
        if (t->seen[k]++) {
            t->dups++;
            continue;
        }
        t->unique++;
        int key = k % N_KEYS + 1;
        assert_true(t->last_n_of_key[key] < k); /* per-key order */
        t->last_n_of_key[key] = k;
    }
}

static void test_consume_all(void **state)
{
    (void)state;
    kafka_consumer_t *c = new_consumer(MAIN_TOPIC, "g-all");
    tally_t *t = malloc(sizeof *t);
    tally_init(t);
    buf_t scratch = {0};
    double deadline = now_s() + 30;
    while (t->unique < N_MAIN && now_s() < deadline) {
        kafka_message_t *msgs;
        size_t n;
        assert_int_equal(kafka_consume_batch(c, 500, 500, &msgs, &n), 0);
        tally_batch(t, msgs, n, &scratch);
        assert_int_equal(kafka_store_offsets(c, msgs, n), 0);
        kafka_messages_free(msgs, n);
    }
    assert_int_equal(t->unique, N_MAIN);
    assert_int_equal(t->dups, 0);
    assert_int_equal(kafka_consumer_assignment_count(c), 4);
    assert_int_equal(kafka_consumer_close(c), 0);
    buf_free(&scratch);
    free(t);
}

/* A consumer stores the offsets of the first half only, though it read
 * more; the next one in the group reads exactly the other half. */
static void test_resume_after_stored(void **state)
{
    (void)state;
    int64_t next[4] = {0, 0, 0, 0};
    size_t got = 0, stored = 0;
    kafka_consumer_t *c = new_consumer(MAIN_TOPIC, "g-resume");
    double deadline = now_s() + 30;
    while (got < N_MAIN * 7 / 10 && now_s() < deadline) {
        kafka_message_t *msgs;
        size_t n;
        assert_int_equal(kafka_consume_batch(c, 300, 500, &msgs, &n), 0);
        size_t store = stored < N_MAIN / 2 ? N_MAIN / 2 - stored : 0;
        store = store < n ? store : n;
        assert_int_equal(kafka_store_offsets(c, msgs, store), 0);
        for (size_t i = 0; i < store; i++) {
            assert_true(msgs[i].partition >= 0 && msgs[i].partition < 4);
            assert_int_equal(msgs[i].offset, next[msgs[i].partition]); /* in order, no gap */
            next[msgs[i].partition] = msgs[i].offset + 1;
        }
        stored += store;
        got += n;
        kafka_messages_free(msgs, n);
    }
    assert_int_equal(stored, N_MAIN / 2);
    assert_int_equal(kafka_consumer_close(c), 0);

    c = new_consumer(MAIN_TOPIC, "g-resume");
    unsigned char *seen = calloc(N_MAIN, 1);
    size_t unique = 0;
    deadline = now_s() + 30;
    double quiet_until = 0;
    while (now_s() < deadline) {
        kafka_message_t *msgs;
        size_t n;
        assert_int_equal(kafka_consume_batch(c, 500, 200, &msgs, &n), 0);
        for (size_t i = 0; i < n; i++) {
            assert_true(msgs[i].offset >= next[msgs[i].partition]); /* nothing stored re-read */
            int k = msg_n(&msgs[i]);
            assert_false(seen[k]);
            seen[k] = 1;
            unique++;
        }
        kafka_messages_free(msgs, n);
        /* Once the rest is in, wait a little for anything extra. */
        if (unique == N_MAIN - N_MAIN / 2 && quiet_until == 0)
            quiet_until = now_s() + 1.5;
        if (quiet_until > 0 && now_s() > quiet_until)
            break;
    }
    assert_int_equal(unique, N_MAIN - N_MAIN / 2);
    assert_int_equal(kafka_consumer_close(c), 0);
    free(seen);
}

/* Pause stops delivery (what librdkafka prefetched is held back), resume
 * goes on right after the last message returned: no gap, no repeat. */
static void test_pause_resume(void **state)
{
    (void)state;
    kafka_consumer_t *c = new_consumer(MAIN_TOPIC, "g-pause");
    tally_t *t = malloc(sizeof *t);
    tally_init(t);
    buf_t scratch = {0};
    double deadline = now_s() + 30;
    while (t->unique < 500 && now_s() < deadline) {
        kafka_message_t *msgs;
        size_t n;
        assert_int_equal(kafka_consume_batch(c, 50, 500, &msgs, &n), 0);
        tally_batch(t, msgs, n, &scratch);
        kafka_messages_free(msgs, n);
    }
    assert_true(t->unique >= 500);
    assert_int_equal(kafka_pause(c), 0);
    assert_true(kafka_paused(c));
    size_t at_pause = t->unique;
    double until = now_s() + 2;
    while (now_s() < until) {
        kafka_message_t *msgs;
        size_t n;
        assert_int_equal(kafka_consume_batch(c, 50, 200, &msgs, &n), 0);
        assert_int_equal(n, 0);
    }
    assert_int_equal(t->unique, at_pause);
    assert_int_equal(kafka_resume(c), 0);
    assert_false(kafka_paused(c));
    deadline = now_s() + 30;
    while (t->unique < N_MAIN && now_s() < deadline) {
        kafka_message_t *msgs;
        size_t n;
        assert_int_equal(kafka_consume_batch(c, 500, 500, &msgs, &n), 0);
        tally_batch(t, msgs, n, &scratch);
        kafka_messages_free(msgs, n);
    }
    assert_int_equal(t->unique, N_MAIN);
    assert_int_equal(t->dups, 0);
    assert_int_equal(kafka_consumer_close(c), 0);
    buf_free(&scratch);
    free(t);
}

/* The pause belongs to the consumer, not to its partitions: a rebalance
 * while paused (a second consumer joins; eager, so everything is revoked
 * and assigned anew) leaves the new partitions paused until resume. */
static void test_pause_survives_rebalance(void **state)
{
    (void)state;
    kafka_consumer_t *a = new_consumer(MAIN_TOPIC, "g-pause-rb");
    tally_t *t = malloc(sizeof *t);
    tally_init(t);
    buf_t scratch = {0};
    kafka_message_t *msgs;
    size_t n, from_a = 0;
    double deadline = now_s() + 20;
    while (t->unique == 0 && now_s() < deadline) {
        assert_int_equal(kafka_consume_batch(a, 100, 200, &msgs, &n), 0);
        tally_batch(t, msgs, n, &scratch);
        assert_int_equal(kafka_store_offsets(a, msgs, n), 0);
        kafka_messages_free(msgs, n);
    }
    assert_true(t->unique > 0);
    assert_int_equal(kafka_pause(a), 0);

    /* b joins; both are polled from here, in turn, as a rebalance needs. */
    kafka_consumer_t *b = new_consumer(MAIN_TOPIC, "g-pause-rb");
    deadline = now_s() + 20;
    double quiet_until = 0;
    while (now_s() < deadline) {
        assert_int_equal(kafka_consume_batch(a, 100, 50, &msgs, &n), 0);
        assert_int_equal(n, 0); /* paused, before and after the rebalance */
        assert_int_equal(kafka_consume_batch(b, 500, 50, &msgs, &n), 0);
        tally_batch(t, msgs, n, &scratch);
        assert_int_equal(kafka_store_offsets(b, msgs, n), 0);
        kafka_messages_free(msgs, n);
        bool split =
            kafka_consumer_assignment_count(a) == 2 && kafka_consumer_assignment_count(b) == 2;
        if (split && quiet_until == 0)
            quiet_until = now_s() + 1.5; /* a would have fetched by now */
        if (quiet_until > 0 && now_s() > quiet_until)
            break;
    }
    assert_int_equal(kafka_consumer_assignment_count(a), 2);
    assert_true(kafka_paused(a));

    assert_int_equal(kafka_resume(a), 0);
    deadline = now_s() + 30;
    while (t->unique < N_MAIN && now_s() < deadline) {
        assert_int_equal(kafka_consume_batch(a, 500, 50, &msgs, &n), 0);
        from_a += n;
        tally_batch(t, msgs, n, &scratch);
        assert_int_equal(kafka_store_offsets(a, msgs, n), 0);
        kafka_messages_free(msgs, n);
        assert_int_equal(kafka_consume_batch(b, 500, 50, &msgs, &n), 0);
        tally_batch(t, msgs, n, &scratch);
        assert_int_equal(kafka_store_offsets(b, msgs, n), 0);
        kafka_messages_free(msgs, n);
    }
    assert_int_equal(t->unique, N_MAIN);
    assert_true(from_a > 0);
    assert_int_equal(kafka_consumer_close(b), 0);
    assert_int_equal(kafka_consumer_close(a), 0);
    check_committed_all(MAIN_TOPIC, "g-pause-rb", 4);
    buf_free(&scratch);
    free(t);
}

/* ---- dead letters ---------------------------------------------------------------------- */

static void assert_header(const kafka_message_t *m, const char *name, const char *want)
{
    const void *v;
    size_t len;
    assert_int_equal(kafka_message_header(m, name, &v, &len), 0);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
}

static void test_dlq(void **state)
{
    (void)state;
    kafka_producer_t *p = new_producer(MAIN_TOPIC);
    char err[256] = "";
    kafka_dlq_info_t info = {
        .reason = "bad_json",
        .detail = "Not JSON at byte 3.",
        .source_topic = MAIN_TOPIC,
        .source_partition = 2,
        .source_offset = 1234567890123LL,
        .traceparent = "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01",
    };
    assert_int_equal(kafka_dlq_send(p, DLQ_TOPIC, "42", 2, "{oops", 5, &info, err, sizeof err), 0);
    /* The consumer path: straight from a consumed message, no traceparent. */
    kafka_message_t src = {.topic = MAIN_TOPIC,
                           .partition = 1,
                           .offset = 9,
                           .key = "7",
                           .keylen = 1,
                           .value = "{}",
                           .valuelen = 2};
    assert_int_equal(
        kafka_dlq_send_message(p, DLQ_TOPIC, &src, "missing_field", NULL, err, sizeof err), 0);
    assert_int_equal(kafka_dlq_send(p, MAIN_TOPIC, "1", 1, "x", 1, &info, err, sizeof err),
                     KAFKA_EINVAL);
    kafka_producer_free(p);

    kafka_consumer_t *c = new_consumer(DLQ_TOPIC, "g-dlq");
    kafka_message_t *all[2] = {NULL, NULL};
    size_t got = 0;
    double deadline = now_s() + 20;
    while (got < 2 && now_s() < deadline) {
        kafka_message_t *msgs;
        size_t n;
        assert_int_equal(kafka_consume_batch(c, 1, 500, &msgs, &n), 0);
        if (n == 1)
            all[got++] = msgs;
    }
    assert_int_equal(got, 2);
    const kafka_message_t *m = all[0];
    assert_string_equal(m->topic, DLQ_TOPIC);
    assert_int_equal(m->keylen, 2);
    assert_memory_equal(m->key, "42", 2);
    assert_int_equal(m->valuelen, 5);
    assert_memory_equal(m->value, "{oops", 5);
    assert_header(m, "dlq.reason", "bad_json");
    assert_header(m, "dlq.detail", "Not JSON at byte 3.");
    assert_header(m, "dlq.source.topic", MAIN_TOPIC);
    assert_header(m, "dlq.source.partition", "2");
    assert_header(m, "dlq.source.offset", "1234567890123");
    assert_string_equal(m->traceparent, info.traceparent);
    m = all[1];
    assert_memory_equal(m->key, "7", 1);
    assert_header(m, "dlq.reason", "missing_field");
    assert_header(m, "dlq.source.partition", "1");
    assert_header(m, "dlq.source.offset", "9");
    const void *v;
    size_t len;
    assert_int_equal(kafka_message_header(m, "dlq.detail", &v, &len), -1);
    assert_null(m->traceparent);
    kafka_messages_free(all[0], 1);
    kafka_messages_free(all[1], 1);
    assert_int_equal(kafka_consumer_close(c), 0);
}

/* ---- rebalance ----------------------------------------------------------------------- */

typedef struct shared {
    pthread_mutex_t mu;
    unsigned char seen[N_REBAL];
    size_t unique, total;
} shared_t;

typedef struct worker {
    kafka_consumer_t *c;
    shared_t *sh;
    pthread_t thread;
    atomic_bool stop;
    atomic_int revokes;
    atomic_size_t max_assigned;
    atomic_int failures;
    int close_rc;
} worker_t;

static void count_revoke(kafka_consumer_t *c, const int32_t *parts, size_t n, bool lost, void *arg)
{
    (void)c, (void)parts, (void)n, (void)lost;
    atomic_fetch_add(&((worker_t *)arg)->revokes, 1);
}

/* Consumes, records and stores until told to stop, then closes (on its
 * own thread: the rebalance of the close is served here). No cmocka
 * assertion on this thread: failures are counted. */
static void *worker_main(void *arg)
{
    worker_t *w = arg;
    while (!atomic_load(&w->stop)) {
        kafka_message_t *msgs;
        size_t n;
        if (kafka_consume_batch(w->c, 200, 100, &msgs, &n) != 0) {
            atomic_fetch_add(&w->failures, 1);
            continue;
        }
        pthread_mutex_lock(&w->sh->mu);
        for (size_t i = 0; i < n; i++) {
            int k = msg_n(&msgs[i]);
            if (k < 0 || k >= N_REBAL) {
                atomic_fetch_add(&w->failures, 1);
                continue;
            }
            w->sh->total++;
            if (!w->sh->seen[k]++)
                w->sh->unique++;
        }
        pthread_mutex_unlock(&w->sh->mu);
        if (kafka_store_offsets(w->c, msgs, n) != 0)
            atomic_fetch_add(&w->failures, 1);
        kafka_messages_free(msgs, n);
        size_t a = kafka_consumer_assignment_count(w->c);
        if (a > atomic_load(&w->max_assigned))
            atomic_store(&w->max_assigned, a);
    }
    w->close_rc = kafka_consumer_close(w->c);
    return NULL;
}

static void worker_start(worker_t *w, shared_t *sh)
{
    memset(w, 0, sizeof *w);
    w->sh = sh;
    kafka_config_t cfg = config(REBAL_TOPIC, "g-rebal");
    cfg.on_revoke = count_revoke;
    cfg.on_revoke_arg = w;
    char err[256] = "";
    assert_int_equal(kafka_consumer_new(&cfg, &w->c, err, sizeof err), 0);
    assert_int_equal(pthread_create(&w->thread, NULL, worker_main, w), 0);
}

static void worker_stop(worker_t *w)
{
    atomic_store(&w->stop, true);
    pthread_join(w->thread, NULL);
}

static size_t shared_unique(shared_t *sh)
{
    pthread_mutex_lock(&sh->mu);
    size_t u = sh->unique;
    pthread_mutex_unlock(&sh->mu);
    return u;
}

static void test_rebalance(void **state)
{
    (void)state;
    shared_t *sh = calloc(1, sizeof *sh);
    pthread_mutex_init(&sh->mu, NULL);
    kafka_producer_t *p = new_producer(REBAL_TOPIC);
    produce_range(p, 0, N_REBAL_FIRST);
    assert_int_equal(kafka_producer_flush(p, 20000, NULL), 0);

    worker_t a, b, c;
    worker_start(&a, sh);
    worker_start(&b, sh);
    double deadline = now_s() + 20;
    while (
        (kafka_consumer_assignment_count(a.c) != 2 || kafka_consumer_assignment_count(b.c) != 2) &&
        now_s() < deadline)
        sleep_ms(50);
    assert_int_equal(kafka_consumer_assignment_count(a.c), 2);
    assert_int_equal(kafka_consumer_assignment_count(b.c), 2);

    /* The rest arrives in chunks while a third consumer joins and leaves. */
    const int chunks = 40, per = (N_REBAL - N_REBAL_FIRST) / 40;
    bool c_running = false, c_done = false;
    for (int i = 0; i < chunks; i++) {
        produce_range(p, N_REBAL_FIRST + i * per, N_REBAL_FIRST + (i + 1) * per);
        kafka_producer_poll(p, 0);
        if (i == 8) {
            worker_start(&c, sh);
            c_running = true;
        }
        if (i >= 25 && c_running && !c_done && atomic_load(&c.max_assigned) > 0) {
            worker_stop(&c);
            c_done = true;
        }
        sleep_ms(100);
    }
    if (c_running && !c_done) {
        deadline = now_s() + 15;
        while (atomic_load(&c.max_assigned) == 0 && now_s() < deadline)
            sleep_ms(50);
        worker_stop(&c);
    }
    kafka_delivery_summary_t s;
    assert_int_equal(kafka_producer_flush(p, 20000, &s), 0);
    assert_int_equal(s.confirmed, N_REBAL);
    kafka_producer_free(p);

    deadline = now_s() + 30;
    while (shared_unique(sh) < N_REBAL && now_s() < deadline)
        sleep_ms(50);
    worker_stop(&a);
    worker_stop(&b);

    fprintf(stderr,
            "rebalance: %zu unique of %d, %zu consumed; revokes a=%d b=%d c=%d; "
            "c held up to %zu partitions\n",
            sh->unique, N_REBAL, sh->total, atomic_load(&a.revokes), atomic_load(&b.revokes),
            atomic_load(&c.revokes), atomic_load(&c.max_assigned));
    assert_int_equal(sh->unique, N_REBAL);
    assert_true(atomic_load(&c.max_assigned) > 0);
    assert_true(atomic_load(&a.revokes) >= 2); /* c's join and c's leave, at least */
    assert_int_equal(atomic_load(&a.failures) + atomic_load(&b.failures) + atomic_load(&c.failures),
                     0);
    assert_int_equal(a.close_rc, 0);
    assert_int_equal(b.close_rc, 0);
    assert_int_equal(c.close_rc, 0);
    check_committed_all(REBAL_TOPIC, "g-rebal", 4);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}

/* ---- lag ------------------------------------------------------------------------------ */

static int64_t total_lag(kafka_consumer_t *c, size_t *parts)
{
    kafka_lag_t lag[8];
    size_t n;
    kafka_consumer_lag(c, lag, 8, &n);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (lag[i].lag < 0)
            return -1;
        sum += lag[i].lag;
    }
    *parts = n;
    return sum;
}

static void test_lag(void **state)
{
    (void)state;
    kafka_consumer_t *c = new_consumer(LAG_TOPIC, "g-lag");
    kafka_message_t *held = NULL, *msgs;
    size_t nheld = 0, n, parts = 0;
    double deadline = now_s() + 20;
    while (kafka_consumer_assignment_count(c) < 2 && now_s() < deadline) {
        assert_int_equal(kafka_consume_batch(c, 10, 100, &msgs, &n), 0);
        assert_int_equal(n, 0);
    }
    assert_int_equal(kafka_consumer_assignment_count(c), 2);

    kafka_producer_t *p = new_producer(LAG_TOPIC);
    produce_range(p, 0, 100);
    assert_int_equal(kafka_producer_flush(p, 20000, NULL), 0);
    kafka_producer_free(p);

    /* Read, but store nothing: the lag is all 100. */
    int64_t lag = -1;
    deadline = now_s() + 20;
    while (now_s() < deadline && (nheld < 100 || (lag = total_lag(c, &parts)) < 100)) {
        assert_int_equal(kafka_consume_batch(c, 100, 100, &msgs, &n), 0);
        if (n > 0) {
            held = realloc(held, (nheld + n) * sizeof *held);
            memcpy(held + nheld, msgs, n * sizeof *msgs);
            nheld += n;
            free(msgs); /* the messages themselves now belong to held */
        }
    }
    fprintf(stderr, "lag: %lld over %zu partitions before storing\n", (long long)lag, parts);
    assert_int_equal(nheld, 100);
    assert_int_equal(parts, 2);
    assert_int_equal(lag, 100);

    /* Applied, stored and committed: the lag drains. */
    assert_int_equal(kafka_store_offsets(c, held, nheld), 0);
    assert_int_equal(kafka_commit(c), 0);
    deadline = now_s() + 20;
    while (now_s() < deadline && (lag = total_lag(c, &parts)) != 0) {
        assert_int_equal(kafka_consume_batch(c, 10, 100, &msgs, &n), 0);
        assert_int_equal(n, 0);
    }
    assert_int_equal(lag, 0);
    kafka_messages_free(held, nheld);
    assert_int_equal(kafka_consumer_close(c), 0);
}

/* Whether the consumer's partitions are consumed to their end, against
 * the producer's deliveries; the partitions come from the ids in runs of
 * KAFKA_ID_BLOCK. A topic of its own, made through the admin API. */
static void test_id_blocks_and_ends(void **state)
{
    (void)state;
    const char *topic = "articles-ends";
    char err[256] = "";
    assert_int_equal(kafka_ensure_topics(bootstrap, &topic, 1, 3, err, sizeof err), 0);
    /* Ids of the same run share a partition; the next run takes the next
     * one, around the three; a key that is not an id is hashed. */
    static const char *const keys[] = {"1", "63", "64", "127", "128", "192", "not-an-id"};
    static const int want[] = {0, 0, 1, 1, 2, 0, -1};
    enum { NKEYS = sizeof keys / sizeof keys[0] };
    kafka_producer_t *p = new_producer(topic);
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(kafka_produce(p, keys[i], strlen(keys[i]), "v", 1, NULL, (uint64_t)i + 1),
                         0);
    assert_int_equal(kafka_producer_flush(p, 20000, NULL), 0);
    kafka_end_t *ends = NULL;
    int nends = kafka_producer_ends(p, &ends);
    kafka_producer_free(p);
    assert_int_equal(nends, 3);

    kafka_consumer_t *c = new_consumer(topic, "g-ends");
    kafka_lag_t lags[8];
    size_t nlags = 0;
    /* Nothing assigned, or nothing fetched yet: not at the end. */
    assert_int_equal(kafka_consumer_at_end(c, ends, (size_t)nends, 5000, lags, 8, &nlags), 0);
    int64_t last[3] = {-1, -1, -1};
    size_t got = 0;
    double deadline = now_s() + 20;
    while (got < NKEYS && now_s() < deadline) {
        kafka_message_t *msgs;
        size_t n;
        assert_int_equal(kafka_consume_batch(c, 10, 100, &msgs, &n), 0);
        for (size_t i = 0; i < n; i++) {
            int k = 0;
            while (k < NKEYS && (msgs[i].keylen != strlen(keys[k]) ||
                                 memcmp(msgs[i].key, keys[k], msgs[i].keylen) != 0))
                k++;
            assert_true(k < NKEYS);
            if (want[k] >= 0)
                assert_int_equal(msgs[i].partition, want[k]);
            last[msgs[i].partition] = msgs[i].offset;
        }
        got += n;
        /* Consumed, not yet stored: still not at the end. */
        if (n > 0)
            assert_int_equal(
                kafka_consumer_at_end(c, ends, (size_t)nends, 5000, lags, 8, &nlags), 0);
        assert_int_equal(kafka_store_offsets(c, msgs, n), 0);
        kafka_messages_free(msgs, n);
    }
    assert_int_equal(got, NKEYS);
    /* The producer's ends are where the consumer found each partition's
     * last message. */
    for (int i = 0; i < nends; i++)
        assert_int_equal(ends[i].offset, last[ends[i].partition] + 1);

    assert_int_equal(kafka_commit(c), 0);
    assert_int_equal(kafka_consumer_at_end(c, ends, (size_t)nends, 5000, lags, 8, &nlags), 1);
    assert_int_equal(nlags, 3);
    for (size_t i = 0; i < nlags; i++)
        assert_int_equal(lags[i].lag, 0);
    /* A delivery the fetches have not seen yet keeps it from the end. */
    ends[0].offset += 2;
    assert_int_equal(kafka_consumer_at_end(c, ends, (size_t)nends, 5000, lags, 8, &nlags), 0);
    assert_int_equal(lags[0].lag, 2);
    free(ends);
    assert_int_equal(kafka_consumer_close(c), 0);
}

int main(void)
{
    log_init("test_sync_kafka", "text",
             getenv("TEST_LOG_LEVEL") ? getenv("TEST_LOG_LEVEL") : "warn");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_produce_flush), cmocka_unit_test(test_delivery_failure),
        cmocka_unit_test(test_consume_all),   cmocka_unit_test(test_resume_after_stored),
        cmocka_unit_test(test_pause_resume),  cmocka_unit_test(test_pause_survives_rebalance),
        cmocka_unit_test(test_dlq),           cmocka_unit_test(test_rebalance),
        cmocka_unit_test(test_lag),           cmocka_unit_test(test_id_blocks_and_ends),
    };
    return cmocka_run_group_tests(tests, start_broker, stop_broker);
}
