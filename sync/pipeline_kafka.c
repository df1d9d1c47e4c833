/* pipeline_kafka.c - the Kafka transport of the sync daemon; see
 * pipeline.h. Events are keyed by article id, so each article's changes
 * share a partition and keep their order from producer to consumer. */
#include "pipeline.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "event.h"
#include "kafka.h"
#include "log.h"

/* librdkafka waits this long for a delivery before giving up on it; the
 * default (5 minutes) would hold a stopping daemon for as long. Its queues
 * are kept to a few MiB: the defaults (up to 1 GiB of prefetched messages
 * per consumer) would dwarf the daemon. Measured with 200k events of 700
 * bytes: fetches of 1 MiB halve the throughput (librdkafka 2.0 then backs
 * off a second whenever its queue is full), 4 MiB add 30 MiB of memory and
 * nothing else; 2 MiB keep both. */
static const char *const producer_props[] = {"message.timeout.ms=60000",
                                             "queue.buffering.max.kbytes=4096",
                                             "queue.buffering.max.messages=20000"};
static const char *const consumer_props[] = {"queued.max.messages.kbytes=8192",
                                             "queued.min.messages=1000",
                                             "fetch.error.backoff.ms=10",
                                             "fetch.max.bytes=2097152",
                                             "max.partition.fetch.bytes=1048576"};
#define NPROPS(a) (sizeof a / sizeof a[0])
#define FLUSH_TIMEOUT_MS 60000

void pipeline_dlq_topic(const char *topic, char *out, size_t len)
{
    snprintf(out, len, "%s.dlq", topic);
}

static int new_producer(pipeline_t *p, kafka_producer_t **out)
{
    kafka_config_t kc = {.brokers = p->brokers, .topic = p->topic,
                         .props = producer_props, .nprops = NPROPS(producer_props)};
    char err[256];
    if (kafka_producer_new(&kc, out, err, sizeof err) < 0) {
        snprintf(p->err, sizeof p->err, "Kafka producer: %.200s", err);
        return PIPELINE_EFATAL;
    }
    return 0;
}

/* ---- producing ------------------------------------------------------------ */

/* Batches sent but not yet confirmed, oldest first: once Kafka confirmed
 * every event up to `token`, the checkpoint may move to `last`. */
typedef struct sent {
    uint64_t token;
    int64_t last;
    size_t events;
} sent_t;

typedef struct producing {
    pipeline_t *p;
    kafka_producer_t *kp;
    sent_t *fifo;
    size_t head, count, cap;
    uint64_t token; /* of the last event produced */
    int64_t ckpt;
} producing_t;

static int remember(producing_t *pr, int64_t last, size_t events)
{
    if (pr->count == pr->cap) {
        size_t cap = pr->cap ? pr->cap * 2 : 64;
        sent_t *f = malloc(cap * sizeof *f);
        if (!f)
            return -1;
        for (size_t i = 0; i < pr->count; i++)
            f[i] = pr->fifo[(pr->head + i) % pr->cap];
        free(pr->fifo);
        pr->fifo = f, pr->cap = cap, pr->head = 0;
    }
    pr->fifo[(pr->head + pr->count++) % pr->cap] = (sent_t){pr->token, last, events};
    return 0;
}

/* Moves ckpt over the batches Kafka confirmed entirely. */
static int advance(producing_t *pr)
{
    char err[200];
    if (kafka_producer_failed(pr->kp, err, sizeof err) < 0) {
        snprintf(pr->p->err, sizeof pr->p->err, "Kafka did not take an event: %s", err);
        return PIPELINE_EFATAL;
    }
    uint64_t confirmed = 0;
    kafka_producer_confirmed(pr->kp, &confirmed);
    while (pr->count && pr->fifo[pr->head].token <= confirmed) {
        sent_t *s = &pr->fifo[pr->head];
        pr->ckpt = s->last;
        metric_inc(pr->p->metrics->produced, NULL, (double)s->events);
        atomic_fetch_add(&pr->p->summary->produced, (int64_t)s->events);
        pr->head = (pr->head + 1) % pr->cap;
        pr->count--;
    }
    return 0;
}

/* A source row that cannot travel goes to the dead-letter topic, described
 * (its own value could not be encoded). */
static int reject_row(producing_t *pr, const capture_reject_t *r)
{
    char topic[256], key[EVENT_KEY_LEN], err[256];
    pipeline_dlq_topic(pr->p->topic, topic, sizeof topic);
    size_t klen = event_key(r->id, key);
    buf_t v = {0};
    buf_printf(&v, "{\"seq\":%lld,\"id\":%lld,\"reason\":\"%s\",\"detail\":", (long long)r->seq,
               (long long)r->id, r->reason);
    buf_put_json_string(&v, r->detail, strlen(r->detail));
    buf_putc(&v, '}');
    kafka_dlq_info_t info = {.reason = r->reason, .detail = r->detail};
    int rc = v.failed ? KAFKA_ENOMEM
                      : kafka_dlq_send(pr->kp, topic, key, klen, v.data, v.len, &info, err,
                                       sizeof err);
    buf_free(&v);
    if (rc < 0) {
        snprintf(pr->p->err, sizeof pr->p->err, "cannot dead-letter change %lld: %.180s",
                 (long long)r->seq, err);
        return PIPELINE_EFATAL;
    }
    pipeline_count_dead(pr->p, r->reason);
    log_warn("dead letter: change %lld of article %lld: %s (%s)", (long long)r->seq,
             (long long)r->id, r->reason, r->detail);
    return 0;
}

static int produce_batch(producing_t *pr, const capture_batch_t *b)
{
    for (size_t i = 0; i < b->nrejects; i++)
        if (reject_row(pr, &b->rejects[i]) < 0)
            return PIPELINE_EFATAL;
    for (size_t i = 0; i < b->n; i++) {
        char key[EVENT_KEY_LEN];
        size_t klen = event_key(b->ids[i], key);
        pr->token = (uint64_t)b->seqs[i];
        int rc = kafka_produce(pr->kp, key, klen, b->items[i].json, b->items[i].len,
                               b->items[i].traceparent, pr->token);
        if (rc < 0) {
            snprintf(pr->p->err, sizeof pr->p->err, "cannot publish change %lld to Kafka",
                     (long long)b->seqs[i]);
            return PIPELINE_EFATAL;
        }
    }
    pipeline_log_batch(b->n ? b->items[0].traceparent : NULL, "published", (int64_t)b->n,
                       b->nread, "change", b->last);
    if (remember(pr, b->last, b->n) < 0) {
        snprintf(pr->p->err, sizeof pr->p->err, "out of memory");
        return PIPELINE_EFATAL;
    }
    kafka_producer_poll(pr->kp, 0);
    return advance(pr);
}

int pipeline_produce(pipeline_t *p)
{
    producing_t pr = {.p = p};
    int64_t since_compact = 0;
    capture_t *cap = NULL;
    if (pipeline_load_checkpoint(p, &pr.ckpt) < 0 || new_producer(p, &pr.kp) < 0)
        return PIPELINE_EFATAL;
    if (capture_start(p, pr.ckpt, true, &cap) < 0) {
        kafka_producer_free(pr.kp);
        return PIPELINE_EFATAL;
    }
    int64_t stored = pr.ckpt;
    double stored_at = pipeline_unix_now();
    int rc = 0;
    capture_batch_t *b;
    while ((b = capture_next(cap))) {
        since_compact += (int64_t)b->nread;
        rc = produce_batch(&pr, b);
        capture_batch_free(b);
        if (rc < 0)
            break;
        if (pr.ckpt != stored && pipeline_unix_now() - stored_at >= PIPELINE_CHECKPOINT_SECONDS) {
            capture_lock_source(cap);
            rc = pipeline_store_checkpoint(p, pr.ckpt, &since_compact);
            capture_unlock_source(cap);
            if (rc < 0)
                break;
            stored = pr.ckpt;
            stored_at = pipeline_unix_now();
        }
    }
    int reader_rc = capture_stop(cap);
    /* What was sent is waited for, also when stopping: the checkpoint then
     * covers it, and a restart does not publish it again. */
    kafka_delivery_summary_t sum;
    if (kafka_producer_flush(pr.kp, FLUSH_TIMEOUT_MS, &sum) < 0 && rc == 0) {
        snprintf(p->err, sizeof p->err, "Kafka did not confirm every event: %s",
                 sum.first_error_text[0] ? sum.first_error_text : "timed out");
        rc = PIPELINE_EFATAL;
    }
    int rc2 = advance(&pr);
    if (rc == 0)
        rc = rc2;
    if (pr.ckpt != stored && pipeline_store_checkpoint(p, pr.ckpt, &since_compact) < 0 && rc == 0)
        rc = PIPELINE_EFATAL;
    kafka_producer_free(pr.kp);
    free(pr.fifo);
    return rc < 0 ? rc : reader_rc;
}

/* ---- consuming ------------------------------------------------------------ */

typedef struct consuming {
    pipeline_t *p;
    kafka_consumer_t *kc;
    kafka_producer_t *dlq; /* for dead letters only */
    char dlq_topic[256];
    bool revoked;          /* partitions went while a batch was in hand */
    int32_t shown[256];    /* partitions with a lag series, to zero those that went */
    size_t nshown;
} consuming_t;

static void on_revoke(kafka_consumer_t *c, const int32_t *partitions, size_t n, bool lost,
                      void *arg)
{
    (void)c, (void)partitions, (void)lost;
    consuming_t *cs = arg;
    if (n)
        cs->revoked = true;
}

static int dead_letter_message(consuming_t *cs, const kafka_message_t *m, const char *reason,
                               const char *detail)
{
    char err[256];
    if (kafka_dlq_send_message(cs->dlq, cs->dlq_topic, m, reason, detail, err, sizeof err) < 0) {
        snprintf(cs->p->err, sizeof cs->p->err, "cannot dead-letter offset %lld: %.180s",
                 (long long)m->offset, err);
        return PIPELINE_EFATAL;
    }
    pipeline_count_dead(cs->p, reason);
    log_warn("dead letter: %s[%d]@%lld: %s (%s)", m->topic, (int)m->partition,
             (long long)m->offset, reason, detail);
    return 0;
}

/* The messages as bulk items; those that are not events go to the dead
 * letters. idx maps items to messages. */
static int decode_batch(consuming_t *cs, const kafka_message_t *msgs, size_t n,
                        applier_item_t *items, size_t *idx, size_t *nitems, buf_t *json)
{
    size_t *offs = calloc(n + 1, sizeof *offs);
    if (!offs)
        return PIPELINE_EFATAL;
    *nitems = 0;
    for (size_t i = 0; i < n; i++) {
        event_t ev;
        event_error_t err;
        int rc = event_decode(msgs[i].value, msgs[i].valuelen, &ev, &err);
        if (rc == 0 && (rc = event_check_key(&ev, msgs[i].key, msgs[i].keylen, &err)) < 0)
            event_free(&ev);
        if (rc == EVENT_EINVAL) {
            if (dead_letter_message(cs, &msgs[i], err.reason, err.message) < 0) {
                free(offs);
                return PIPELINE_EFATAL;
            }
            continue;
        }
        size_t start = json->len;
        if (rc < 0 || event_to_bulk_item(&ev, json) < 0) {
            event_free(&ev);
            free(offs);
            return PIPELINE_EFATAL;
        }
        event_free(&ev);
        offs[*nitems] = start;
        items[*nitems] = (applier_item_t){.len = json->len - start,
                                          .traceparent = msgs[i].traceparent};
        idx[(*nitems)++] = i;
    }
    for (size_t i = 0; i < *nitems; i++)
        items[i].json = json->data + offs[i];
    free(offs);
    return json->failed ? PIPELINE_EFATAL : 0;
}

/* Waiting for the REST core, the partitions are paused and the group is
 * still served. Returns 0, or 1 when the partitions were taken away
 * meanwhile (the batch is dropped: their new owner applies it). */
static int paused_wait(void *ud, long ms)
{
    consuming_t *cs = ud;
    if (!kafka_paused(cs->kc))
        kafka_pause(cs->kc);
    double until = pipeline_unix_now() + (double)ms / 1000.0;
    while (pipeline_unix_now() < until && !atomic_load(cs->p->stop)) {
        kafka_message_t *none = NULL;
        size_t k = 0;
        kafka_consume_batch(cs->kc, 1, 50, &none, &k); /* paused: nothing comes */
        kafka_messages_free(none, k);
    }
    if (atomic_load(cs->p->stop))
        return PIPELINE_ESTOPPED;
    return cs->revoked ? 1 : 0;
}

static int apply_consumed(consuming_t *cs, applier_item_t *items, size_t n)
{
    cs->revoked = false;
    int rc = pipeline_apply(cs->p, items, n, paused_wait, cs);
    if (kafka_paused(cs->kc))
        kafka_resume(cs->kc);
    return rc;
}

static int consume_batch(consuming_t *cs, kafka_message_t *msgs, size_t n)
{
    pipeline_t *p = cs->p;
    applier_item_t *items = calloc(n, sizeof *items);
    size_t *idx = calloc(n, sizeof *idx);
    buf_t json = {0};
    size_t nitems = 0;
    int rc = items && idx ? decode_batch(cs, msgs, n, items, idx, &nitems, &json)
                          : PIPELINE_EFATAL;
    if (rc == 0)
        rc = apply_consumed(cs, items, nitems);
    int64_t applied = 0;
    for (size_t i = 0; rc == 0 && i < nitems; i++) {
        if (items[i].outcome == APPLIER_APPLIED) {
            applied++;
            continue;
        }
        char reason[24];
        snprintf(reason, sizeof reason, "http_%d", items[i].status);
        rc = dead_letter_message(cs, &msgs[idx[i]], reason, items[i].reason);
    }
    if (rc == 0) {
        /* Committed now, not by the next auto-commit: after a crash only
         * the batch in hand is applied again, and as the REST core applies
         * a batch in one transaction, no article is ever seen going back to
         * an older state. */
        kafka_store_offsets(cs->kc, msgs, n);
        kafka_commit(cs->kc);
        metric_inc(p->metrics->applied, NULL, (double)applied);
        atomic_fetch_add(&p->summary->applied, applied);
        pipeline_log_batch(nitems ? items[0].traceparent : NULL, "applied", applied, n,
                           "offset", msgs[n - 1].offset);
    }
    if (rc == PIPELINE_EFATAL && !p->err[0])
        snprintf(p->err, sizeof p->err, "out of memory");
    buf_free(&json);
    free(items);
    free(idx);
    return rc == 1 ? 0 : rc; /* revoked: the new owner consumes them again */
}

/* Updates the lag gauge; true when every assigned partition is known to be
 * consumed and committed to its end. */
static void set_lag(consuming_t *cs, int32_t partition, double lag)
{
    char part[16];
    snprintf(part, sizeof part, "%d", (int)partition);
    const char *labels[] = {part};
    metric_set(cs->p->metrics->lag, labels, lag);
}

static bool lag_zero(consuming_t *cs)
{
    kafka_lag_t lags[256];
    size_t n = 0;
    kafka_consumer_lag(cs->kc, lags, 256, &n);
    size_t assigned = kafka_consumer_assignment_count(cs->kc);
    metric_set(cs->p->metrics->assigned, NULL, (double)assigned);
    bool zero = n > 0 && assigned > 0;
    /* A partition that went to another consumer is its lag now, not ours. */
    for (size_t k = 0; k < cs->nshown; k++) {
        bool still = false;
        for (size_t i = 0; i < n && !still; i++)
            still = lags[i].partition == cs->shown[k];
        if (!still)
            set_lag(cs, cs->shown[k], 0);
    }
    cs->nshown = 0;
    for (size_t i = 0; i < n; i++) {
        if (lags[i].lag >= 0)
            set_lag(cs, lags[i].partition, (double)lags[i].lag);
        cs->shown[cs->nshown++] = lags[i].partition;
        if (lags[i].lag != 0)
            zero = false;
    }
    return zero;
}

int pipeline_consume(pipeline_t *p)
{
    consuming_t cs = {.p = p};
    pipeline_dlq_topic(p->topic, cs.dlq_topic, sizeof cs.dlq_topic);
    kafka_config_t kc = {.brokers = p->brokers, .topic = p->topic, .group = p->group,
                         .props = consumer_props, .nprops = NPROPS(consumer_props),
                         .on_revoke = on_revoke, .on_revoke_arg = &cs};
    char err[256];
    if (kafka_consumer_new(&kc, &cs.kc, err, sizeof err) < 0) {
        snprintf(p->err, sizeof p->err, "Kafka consumer: %.200s", err);
        return PIPELINE_EFATAL;
    }
    if (new_producer(p, &cs.dlq) < 0) {
        kafka_consumer_close(cs.kc);
        return PIPELINE_EFATAL;
    }
    int rc = PIPELINE_ESTOPPED;
    double idle_since = 0, lag_at = 0;
    while (!atomic_load(p->stop)) {
        kafka_message_t *msgs = NULL;
        size_t n = 0;
        if (pipeline_unix_now() - lag_at >= 1.0) { /* the gauges, also while busy */
            lag_zero(&cs);
            lag_at = pipeline_unix_now();
        }
        if (kafka_consume_batch(cs.kc, p->batch, 200, &msgs, &n) < 0) {
            snprintf(p->err, sizeof p->err, "Kafka consumer failed");
            rc = PIPELINE_EFATAL;
            break;
        }
        if (n) {
            idle_since = 0;
            rc = consume_batch(&cs, msgs, n);
            kafka_messages_free(msgs, n);
            if (rc < 0)
                break;
            rc = PIPELINE_ESTOPPED;
            continue;
        }
        if (p->follow || (p->produced_all && !atomic_load(p->produced_all)))
            continue;
        /* Once: done when the committed offsets reach the ends. The lag
         * comes from librdkafka's statistics, a second old at most. */
        if (!idle_since) {
            idle_since = pipeline_unix_now();
            kafka_commit(cs.kc);
        } else if (pipeline_unix_now() - idle_since > 1.5 && lag_zero(&cs)) {
            rc = 0;
            break;
        } else if (pipeline_unix_now() - idle_since > 1.5) {
            idle_since = 0; /* commit again and wait for fresher statistics */
        }
    }
    kafka_consumer_close(cs.kc); /* commits what was stored */
    kafka_producer_free(cs.dlq);
    return rc;
}

/* ---- both in one process --------------------------------------------------- */

typedef struct producer_thread {
    pipeline_t p; /* a copy: its own err, the rest shared */
    int rc;
} producer_thread_t;

static void *produce_main(void *arg)
{
    producer_thread_t *t = arg;
    t->rc = pipeline_produce(&t->p);
    atomic_store(t->p.produced_all, true);
    if (t->rc == PIPELINE_EFATAL)
        atomic_store(t->p.stop, true); /* the consumer alone would wait forever */
    return NULL;
}

int pipeline_run_kafka(pipeline_t *p)
{
    atomic_bool produced_all = false;
    p->produced_all = &produced_all;
    producer_thread_t t = {.p = *p};
    t.p.err[0] = '\0';
    pthread_t tid;
    if (pthread_create(&tid, NULL, produce_main, &t) != 0) {
        snprintf(p->err, sizeof p->err, "cannot start the producer thread");
        return PIPELINE_EFATAL;
    }
    int rc = pipeline_consume(p);
    if (rc < 0)
        atomic_store(p->stop, true); /* the producer stops too */
    pthread_join(tid, NULL);
    p->produced_all = NULL;
    if (t.rc == PIPELINE_EFATAL) {
        snprintf(p->err, sizeof p->err, "%s", t.p.err);
        return PIPELINE_EFATAL;
    }
    return rc < 0 ? rc : t.rc;
}
