/* pipeline_kafka.c - the Kafka transport of the sync daemon; see
 * pipeline.h. Events are keyed by article id, so each article's changes
 * share a partition and keep their order from producer to consumer. */
#include "pipeline.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "event.h"
#include "kafka.h"
#include "log.h"

/* librdkafka waits this long for a delivery before giving up on it; the
 * default (5 minutes) would hold a stopping daemon for as long. Its queues
 * are kept to a few MiB: the defaults (up to 1 GiB of prefetched messages
 * per consumer) would dwarf the daemon.
 *
 * librdkafka before 2.2 stops fetching once its queue holds
 * queued.min.messages, and looks again only when something wakes its
 * broker thread, a second later at worst: the consumer then starves while
 * the queue is long drained. A metadata refresh every 100 ms is such a
 * wake-up (a small request to one broker). With it, 5000 queued events
 * (3.5 MB at 700 bytes) outlast the wait. Small per-partition fetches make
 * every fetch carry all partitions, so a window of events spans few ids.
 * No compression: lz4 cost the daemon 15 MiB of buffers and the broker
 * CPU to validate, and gained nothing on the measured link. */
static const char *const producer_props[] = {"message.timeout.ms=60000",
                                             "compression.codec=none",
                                             "linger.ms=20",
                                             "queue.buffering.max.kbytes=4096",
                                             "queue.buffering.max.messages=20000"};
static const char *const consumer_props[] = {"queued.max.messages.kbytes=8192",
                                             "queued.min.messages=5000",
                                             "topic.metadata.refresh.interval.ms=100",
                                             "fetch.error.backoff.ms=10",
                                             "fetch.max.bytes=2097152",
                                             "max.partition.fetch.bytes=131072"};
#define NPROPS(a) (sizeof a / sizeof a[0])
#define FLUSH_TIMEOUT_MS 60000
/* Partitions whose lag the gauges show at most. */
#define MAX_SHOWN 256

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

/* What the producing thread of a run tells the consuming one: all is set
 * once it caught up, and ends are then where its deliveries ended in each
 * partition, so that the consumer does not finish before it applied them. */
struct produced {
    atomic_bool all;
    kafka_end_t *ends;
    size_t nends;
};

static int tell_ends(pipeline_t *p, kafka_producer_t *kp)
{
    int n = kafka_producer_ends(kp, &p->produced->ends);
    if (n < 0) {
        snprintf(p->err, sizeof p->err, "out of memory");
        return PIPELINE_EFATAL;
    }
    p->produced->nends = (size_t)n;
    return 0;
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
    if (p->produced && rc == 0 && tell_ends(p, pr.kp) < 0)
        rc = PIPELINE_EFATAL;
    kafka_producer_free(pr.kp);
    free(pr.fifo);
    return rc < 0 ? rc : reader_rc;
}

/* ---- consuming ------------------------------------------------------------ */

/* The consumer is two threads. The consuming thread polls librdkafka and
 * decodes; the applier thread sends each decoded batch to the REST core,
 * then stores and commits its offsets. One batch waits between them, so
 * fetching and decoding the next batch overlap the REST core's work on the
 * current one. Batches are applied one at a time in the order they were
 * polled, so each article's events keep their order, and offsets are stored
 * only for applied batches, oldest first. */

/* A decoded batch on its way to the REST core. idx maps items to msgs. */
typedef struct batch {
    kafka_message_t *msgs;
    size_t n;
    applier_item_t *items;
    size_t *idx;
    size_t nitems;
    buf_t json;
} batch_t;

typedef struct consuming {
    pipeline_t *p;
    kafka_consumer_t *kc;
    kafka_producer_t *dlq; /* for dead letters only */
    char dlq_topic[256];
    int32_t shown[MAX_SHOWN]; /* partitions with a lag series, to zero those that went */
    size_t nshown;
    batch_t *holding;      /* decoded, not yet handed over (consuming thread) */

    /* The hand-over, guarded by mu. */
    pthread_t applier;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch_t *next;         /* handed over, not yet taken */
    bool busy;             /* the applier has a batch in hand */
    bool waiting;          /* ... and waits for the REST core, partitions paused */
    bool closing;          /* no more batches: the applier ends */
    bool revoking;         /* partitions are going: the applier stops waiting */
    bool dropping;         /* a batch was abandoned: the later ones are too */
    int rc;                /* the applier's first failure */
} consuming_t;

static void batch_free(batch_t *b)
{
    if (!b)
        return;
    kafka_messages_free(b->msgs, b->n);
    buf_free(&b->json);
    free(b->items);
    free(b->idx);
    free(b);
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

/* Sorting a batch by article id keeps each article's events in their order
 * (the sort is stable: ties keep the order of arrival), and makes the REST
 * core's inserts neighbours: the events of one fetch come from several
 * partitions, whose ids interleave. */
typedef struct sort_key {
    int64_t id;
    size_t pos;
} sort_key_t;

static int key_cmp(const void *a, const void *b)
{
    const sort_key_t *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int sort_items(batch_t *b, const int64_t *ids)
{
    sort_key_t *keys = malloc((b->nitems + 1) * sizeof *keys);
    applier_item_t *items = malloc((b->nitems + 1) * sizeof *items);
    size_t *idx = malloc((b->nitems + 1) * sizeof *idx);
    if (!keys || !items || !idx) {
        free(keys), free(items), free(idx);
        return PIPELINE_EFATAL;
    }
    for (size_t i = 0; i < b->nitems; i++)
        keys[i] = (sort_key_t){ids[i], i};
    qsort(keys, b->nitems, sizeof *keys, key_cmp);
    for (size_t i = 0; i < b->nitems; i++) {
        items[i] = b->items[keys[i].pos];
        items[i].joined = i > 0 && keys[i].id == keys[i - 1].id;
        idx[i] = b->idx[keys[i].pos];
    }
    free(b->items), free(b->idx), free(keys);
    b->items = items, b->idx = idx;
    return 0;
}

/* The messages as bulk items, by article id; those that are not events go
 * to the dead letters. */
static int decode_batch(consuming_t *cs, batch_t *b)
{
    size_t *offs = calloc(b->n + 1, sizeof *offs);
    int64_t *ids = calloc(b->n + 1, sizeof *ids);
    int rc = offs && ids ? 0 : PIPELINE_EFATAL;
    for (size_t i = 0; rc == 0 && i < b->n; i++) {
        const kafka_message_t *m = &b->msgs[i];
        event_error_t err;
        size_t start = b->json.len;
        int erc = event_decode_bulk_item(m->value, m->valuelen, m->key, m->keylen,
                                         &ids[b->nitems], &b->json, &err);
        if (erc == EVENT_EINVAL) {
            rc = dead_letter_message(cs, m, err.reason, err.message);
            continue;
        }
        if (erc < 0)
            rc = PIPELINE_EFATAL;
        offs[b->nitems] = start;
        b->items[b->nitems] = (applier_item_t){.len = b->json.len - start,
                                               .traceparent = m->traceparent};
        b->idx[b->nitems++] = i;
    }
    if (rc == 0 && b->json.failed)
        rc = PIPELINE_EFATAL;
    for (size_t i = 0; rc == 0 && i < b->nitems; i++)
        b->items[i].json = b->json.data + offs[i];
    if (rc == 0)
        rc = sort_items(b, ids);
    free(offs);
    free(ids);
    return rc;
}

/* Takes msgs (freed on failure too); NULL when out of memory or when a
 * message could not be dead-lettered (p->err says which). */
static batch_t *batch_new(consuming_t *cs, kafka_message_t *msgs, size_t n)
{
    batch_t *b = calloc(1, sizeof *b);
    if (!b) {
        kafka_messages_free(msgs, n);
        snprintf(cs->p->err, sizeof cs->p->err, "out of memory");
        return NULL;
    }
    b->msgs = msgs, b->n = n;
    b->items = calloc(n, sizeof *b->items);
    b->idx = calloc(n, sizeof *b->idx);
    if (!b->items || !b->idx || decode_batch(cs, b) < 0) {
        if (!cs->p->err[0])
            snprintf(cs->p->err, sizeof cs->p->err, "out of memory");
        batch_free(b);
        return NULL;
    }
    return b;
}

/* Waits on cs->cv (mu held) for a signal or 50 ms, whichever comes
 * first: the waiters also watch flags nobody signals (stop). */
static void wait_a_little(consuming_t *cs)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&cs->cv, &cs->mu, &ts);
}

/* The applier's wait between tries while the REST core is unavailable:
 * the partitions are paused (the consuming thread keeps the group served).
 * Returns 0 to try again, 1 when the partitions are going (the batch is
 * abandoned: their next owner applies it), or PIPELINE_ESTOPPED. */
static int paused_wait(void *ud, long ms)
{
    consuming_t *cs = ud;
    if (!kafka_paused(cs->kc))
        kafka_pause(cs->kc);
    pthread_mutex_lock(&cs->mu);
    cs->waiting = true;
    pthread_cond_broadcast(&cs->cv);
    double until = pipeline_unix_now() + (double)ms / 1000.0;
    while (!cs->revoking && !atomic_load(cs->p->stop) && pipeline_unix_now() < until) {
        wait_a_little(cs);
    }
    int rc = atomic_load(cs->p->stop) ? PIPELINE_ESTOPPED : cs->revoking ? 1 : 0;
    pthread_mutex_unlock(&cs->mu);
    return rc;
}

/* Applies a batch, dead-letters what the REST core refused, then stores
 * and commits the offsets. Returns 0, 1 when abandoned, or an error. */
static int apply_batch(consuming_t *cs, batch_t *b)
{
    pipeline_t *p = cs->p;
    int rc = pipeline_apply(p, b->items, b->nitems, paused_wait, cs);
    pthread_mutex_lock(&cs->mu);
    cs->waiting = false;
    pthread_mutex_unlock(&cs->mu);
    if (kafka_paused(cs->kc))
        kafka_resume(cs->kc);
    int64_t applied = 0;
    for (size_t i = 0; rc == 0 && i < b->nitems; i++) {
        applier_item_t *it = &b->items[i];
        if (it->outcome == APPLIER_APPLIED) {
            applied++;
            continue;
        }
        char reason[24];
        snprintf(reason, sizeof reason, "http_%d", it->status);
        rc = dead_letter_message(cs, &b->msgs[b->idx[i]], reason, it->reason);
    }
    if (rc != 0)
        return rc;
    /* Committed now, not by the next auto-commit: after a crash only the
     * batches in hand are applied again, and as the REST core applies a
     * batch in one transaction, no article is ever seen going back to an
     * older state. */
    kafka_store_offsets(cs->kc, b->msgs, b->n);
    kafka_commit(cs->kc);
    metric_inc(p->metrics->applied, NULL, (double)applied);
    atomic_fetch_add(&p->summary->applied, applied);
    pipeline_log_batch(b->nitems ? b->items[0].traceparent : NULL, "applied", applied, b->n,
                       "offset", b->msgs[b->n - 1].offset);
    return 0;
}

static void *applier_main(void *arg)
{
    consuming_t *cs = arg;
    pthread_mutex_lock(&cs->mu);
    for (;;) {
        while (!cs->next && !cs->closing)
            pthread_cond_wait(&cs->cv, &cs->mu);
        batch_t *b = cs->next;
        if (!b)
            break;
        cs->next = NULL;
        /* Once a batch is abandoned or failed, applying a later one would
         * store offsets past it. */
        bool skip = cs->dropping || cs->rc != 0;
        cs->busy = !skip;
        pthread_cond_broadcast(&cs->cv);
        pthread_mutex_unlock(&cs->mu);
        int rc = skip ? 0 : apply_batch(cs, b);
        batch_free(b);
        pthread_mutex_lock(&cs->mu);
        if (rc == 1)
            cs->dropping = true;
        else if (rc < 0 && cs->rc == 0)
            cs->rc = rc;
        cs->busy = false;
        pthread_cond_broadcast(&cs->cv);
    }
    pthread_mutex_unlock(&cs->mu);
    return NULL;
}

/* Serves the group while the applier waits for the REST core: the
 * partitions are paused, so nothing comes but rebalances. */
static void serve_group(consuming_t *cs)
{
    kafka_message_t *none = NULL;
    size_t k = 0;
    kafka_consume_batch(cs->kc, 1, 50, &none, &k);
    kafka_messages_free(none, k);
}

/* Hands b to the applier once the slot is free. Returns 0, or the
 * applier's failure (b is then freed). Called with mu held. */
static int hand_over_locked(consuming_t *cs, batch_t *b)
{
    while (cs->next && cs->rc == 0) {
        if (cs->waiting && !cs->revoking) {
            /* The outage may be long: keep our place in the group. A
             * revoke meanwhile takes cs->holding into the pipeline. */
            cs->holding = b;
            pthread_mutex_unlock(&cs->mu);
            serve_group(cs);
            pthread_mutex_lock(&cs->mu);
            if (!cs->holding)
                return 0;
            cs->holding = NULL;
            continue;
        }
        wait_a_little(cs);
    }
    if (cs->rc != 0) {
        batch_free(b);
        return cs->rc;
    }
    cs->next = b;
    pthread_cond_broadcast(&cs->cv);
    return 0;
}

static int hand_over(consuming_t *cs, batch_t *b)
{
    pthread_mutex_lock(&cs->mu);
    int rc = hand_over_locked(cs, b);
    pthread_mutex_unlock(&cs->mu);
    return rc;
}

/* Waits until the applier has nothing in hand. Called with mu held. */
static void drain_locked(consuming_t *cs)
{
    while (cs->next || cs->busy)
        pthread_cond_wait(&cs->cv, &cs->mu);
}

/* Before partitions go, everything polled from them is applied and its
 * offsets stored (kafka.c then commits), or, when the REST core is
 * unavailable, abandoned: the next owner reads it again from the last
 * commit. Runs on the consuming thread, inside kafka_consume_batch. */
static void on_revoke(kafka_consumer_t *c, const int32_t *partitions, size_t n, bool lost,
                      void *arg)
{
    (void)c, (void)partitions, (void)lost;
    consuming_t *cs = arg;
    if (!n)
        return;
    pthread_mutex_lock(&cs->mu);
    cs->revoking = true;
    pthread_cond_broadcast(&cs->cv);
    batch_t *held = cs->holding;
    cs->holding = NULL;
    if (held) {
        while (cs->next)
            pthread_cond_wait(&cs->cv, &cs->mu);
        cs->next = held;
        pthread_cond_broadcast(&cs->cv);
    }
    drain_locked(cs);
    cs->revoking = false;
    cs->dropping = false;
    pthread_mutex_unlock(&cs->mu);
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

/* Shows lags (n of them) in the gauges; partitions shown before and gone
 * since are another consumer's lag now, not ours. Returns whether every
 * one is known to be zero. */
static bool show_lags(consuming_t *cs, const kafka_lag_t *lags, size_t n)
{
    size_t assigned = kafka_consumer_assignment_count(cs->kc);
    metric_set(cs->p->metrics->assigned, NULL, (double)assigned);
    bool zero = n > 0 && assigned > 0;
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

/* The gauges from librdkafka's statistics, a second old at most. */
static void show_stats_lags(consuming_t *cs)
{
    kafka_lag_t lags[MAX_SHOWN];
    size_t n = 0;
    kafka_consumer_lag(cs->kc, lags, MAX_SHOWN, &n);
    show_lags(cs, lags, n);
}

/* Once: done when everything polled is applied and every assigned
 * partition is committed to its end, asked of the broker. */
static bool caught_up(consuming_t *cs)
{
    kafka_lag_t lags[MAX_SHOWN];
    size_t n = 0;
    const struct produced *pd = cs->p->produced;
    if (kafka_commit(cs->kc) < 0 ||
        kafka_consumer_at_end(cs->kc, pd ? pd->ends : NULL, pd ? pd->nends : 0, 5000, lags,
                              MAX_SHOWN, &n) != 1)
        return false;
    return show_lags(cs, lags, n);
}

static bool applier_idle(consuming_t *cs)
{
    pthread_mutex_lock(&cs->mu);
    bool idle = !cs->next && !cs->busy;
    pthread_mutex_unlock(&cs->mu);
    return idle;
}

/* Events polled at once: a batch per assigned partition (up to
 * WINDOW_BATCHES), so that sorted by id they fill requests of neighbouring
 * ids. */
#define WINDOW_BATCHES 2
static size_t window(consuming_t *cs)
{
    size_t parts = kafka_consumer_assignment_count(cs->kc);
    size_t k = parts < 1 ? 1 : parts > WINDOW_BATCHES ? WINDOW_BATCHES : parts;
    size_t w = cs->p->batch * k;
    return w > KAFKA_MAX_BATCH ? KAFKA_MAX_BATCH : w;
}

/* The consuming thread's loop. Returns 0 when caught up (once),
 * PIPELINE_ESTOPPED, or PIPELINE_EFATAL. */
static int consume_loop(consuming_t *cs)
{
    pipeline_t *p = cs->p;
    double lag_at = 0;
    while (!atomic_load(p->stop)) {
        kafka_message_t *msgs = NULL;
        size_t n = 0;
        if (pipeline_unix_now() - lag_at >= 1.0) { /* the gauges, also while busy */
            show_stats_lags(cs);
            lag_at = pipeline_unix_now();
        }
        if (kafka_consume_batch(cs->kc, window(cs), 200, &msgs, &n) < 0) {
            snprintf(p->err, sizeof p->err, "Kafka consumer failed");
            return PIPELINE_EFATAL;
        }
        if (n) {
            batch_t *b = batch_new(cs, msgs, n);
            if (!b)
                return PIPELINE_EFATAL;
            int rc = hand_over(cs, b);
            if (rc < 0)
                return rc;
            continue;
        }
        pthread_mutex_lock(&cs->mu);
        int failed = cs->rc;
        pthread_mutex_unlock(&cs->mu);
        if (failed < 0)
            return failed;
        if (p->follow || (p->produced && !atomic_load(&p->produced->all)) || !applier_idle(cs))
            continue;
        if (caught_up(cs))
            return 0;
    }
    return PIPELINE_ESTOPPED;
}

int pipeline_consume(pipeline_t *p)
{
    consuming_t cs = {.p = p};
    pipeline_dlq_topic(p->topic, cs.dlq_topic, sizeof cs.dlq_topic);
    kafka_config_t kc = {.brokers = p->brokers, .topic = p->topic, .group = p->group,
                         .props = consumer_props, .nprops = NPROPS(consumer_props),
                         .on_revoke = on_revoke, .on_revoke_arg = &cs};
    char err[256];
    if (pthread_mutex_init(&cs.mu, NULL) != 0 || pthread_cond_init(&cs.cv, NULL) != 0) {
        snprintf(p->err, sizeof p->err, "cannot start the applier thread");
        return PIPELINE_EFATAL;
    }
    int rc = PIPELINE_EFATAL;
    if (kafka_consumer_new(&kc, &cs.kc, err, sizeof err) < 0) {
        snprintf(p->err, sizeof p->err, "Kafka consumer: %.200s", err);
        goto fail;
    }
    if (new_producer(p, &cs.dlq) < 0) {
        kafka_consumer_close(cs.kc);
        goto fail;
    }
    if (pthread_create(&cs.applier, NULL, applier_main, &cs) != 0) {
        snprintf(p->err, sizeof p->err, "cannot start the applier thread");
        kafka_consumer_close(cs.kc);
        kafka_producer_free(cs.dlq);
        goto fail;
    }
    rc = consume_loop(&cs);
    /* What was handed over is applied (or, when stopping, abandoned)
     * before the last commit, which kafka_consumer_close makes. */
    pthread_mutex_lock(&cs.mu);
    drain_locked(&cs);
    cs.closing = true;
    pthread_cond_broadcast(&cs.cv);
    pthread_mutex_unlock(&cs.mu);
    pthread_join(cs.applier, NULL);
    if (cs.rc == PIPELINE_EFATAL || (rc == 0 && cs.rc < 0))
        rc = cs.rc;
    kafka_consumer_close(cs.kc);
    kafka_producer_free(cs.dlq);
fail:
    pthread_cond_destroy(&cs.cv);
    pthread_mutex_destroy(&cs.mu);
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
    atomic_store(&t->p.produced->all, true);
    if (t->rc == PIPELINE_EFATAL)
        atomic_store(t->p.stop, true); /* the consumer alone would wait forever */
    return NULL;
}

int pipeline_run_kafka(pipeline_t *p)
{
    struct produced produced = {.all = false};
    p->produced = &produced;
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
    p->produced = NULL;
    free(produced.ends);
    if (t.rc == PIPELINE_EFATAL) {
        snprintf(p->err, sizeof p->err, "%s", t.p.err);
        return PIPELINE_EFATAL;
    }
    return rc < 0 ? rc : t.rc;
}
