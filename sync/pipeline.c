/* pipeline.c - the direct transport and what the loops share; see
 * pipeline.h. */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "event.h"
#include "log.h"
#include "trace.h"

/* Compact the change log once this many changes were done since the last
 * time: often enough to keep it small, rarely enough to cost nothing. */
#define COMPACT_EVERY 50000
/* Longest wait between two tries while the REST core is unavailable. */
#define RETRY_CAP_MS 5000

double pipeline_unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool pipeline_sleep(atomic_bool *stop, long ms)
{
    while (ms > 0 && !atomic_load(stop)) {
        long step = ms < 50 ? ms : 50;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return !atomic_load(stop);
}

static void collect_age(void *user_data)
{
    pipeline_metrics_t *m = user_data;
    double t = atomic_load(&m->checkpoint_time);
    metric_set(m->checkpoint_age, NULL, t > 0 ? pipeline_unix_now() - t : 0);
}

int pipeline_metrics_new(metrics_registry_t *reg, pipeline_metrics_t *m)
{
    static const char *const reason[] = {"reason"};
    static const char *const partition[] = {"partition"};
    memset(m, 0, sizeof *m);
    m->read = metrics_counter(reg, "sync_changes_read_total",
                              "Changes read from the source's change log.", 0, NULL);
    m->produced = metrics_counter(reg, "sync_events_produced_total",
                                  "Events Kafka confirmed (delivery reports).", 0, NULL);
    m->applied = metrics_counter(reg, "sync_events_applied_total",
                                 "Events the REST core applied.", 0, NULL);
    m->dead = metrics_counter(reg, "sync_events_dead_lettered_total",
                              "Events refused for good and set aside, by reason.", 1, reason);
    m->unavailable = metrics_counter(reg, "sync_apply_failures_total",
                                     "Attempts to apply events that found the REST core "
                                     "unavailable (retried).",
                                     0, NULL);
    m->backlog = metrics_gauge(reg, "sync_backlog_changes",
                               "Changes in the source's log not yet read.", 0, NULL);
    m->checkpoint = metrics_gauge(reg, "sync_checkpoint_sequence",
                                  "The source change sequence everything up to which is done.", 0,
                                  NULL);
    m->checkpoint_age = metrics_gauge(reg, "sync_checkpoint_age_seconds",
                                      "Seconds since the checkpoint last moved.", 0, NULL);
    m->lag = metrics_gauge(reg, "sync_consumer_lag",
                           "Kafka messages not yet consumed, by partition.", 1, partition);
    m->assigned = metrics_gauge(reg, "sync_consumer_assigned_partitions",
                                "Kafka partitions assigned to this consumer.", 0, NULL);
    m->caught_up = metrics_gauge(reg, "sync_caught_up",
                                 "1 when the last read found no more changes, else 0.", 0, NULL);
    if (!m->read || !m->produced || !m->applied || !m->dead || !m->unavailable || !m->backlog ||
        !m->checkpoint || !m->checkpoint_age || !m->lag || !m->assigned || !m->caught_up ||
        metrics_on_collect(reg, collect_age, m) < 0)
        return -1;
    return 0;
}

/* ---- dead letters of the direct transport -------------------------------- */

void pipeline_count_dead(pipeline_t *p, const char *reason)
{
    const char *labels[] = {reason};
    metric_inc(p->metrics->dead, labels, 1);
    atomic_fetch_add(&p->summary->dead_lettered, 1);
}

void pipeline_dead_letter(pipeline_t *p, int64_t seq, int64_t id, const char *reason,
                        const char *detail, const char *item, size_t item_len)
{
    pipeline_count_dead(p, reason);
    log_warn("dead letter: change %lld of article %lld: %s (%s)", (long long)seq, (long long)id,
             reason, detail);
    if (!p->dead_letters)
        return;
    buf_t line = {0};
    char ts[EVENT_TS_LEN];
    event_now(ts);
    buf_printf(&line, "{\"time\":\"%s\",\"seq\":%lld,\"id\":%lld,\"reason\":", ts,
               (long long)seq, (long long)id);
    buf_put_json_string(&line, reason, strlen(reason));
    buf_puts(&line, ",\"detail\":");
    buf_put_json_string(&line, detail, strlen(detail));
    buf_puts(&line, ",\"item\":");
    if (item)
        buf_append(&line, item, item_len);
    else
        buf_puts(&line, "null");
    buf_puts(&line, "}\n");
    if (!line.failed && (fwrite(line.data, 1, line.len, p->dead_letters) != line.len ||
                         fflush(p->dead_letters) != 0))
        log_error("cannot write the dead-letter file: change %lld is only in this log",
                  (long long)seq);
    buf_free(&line);
}

/* ---- the direct transport ------------------------------------------------ */

static int sleep_between(void *ud, long ms)
{
    pipeline_t *p = ud;
    return pipeline_sleep(p->stop, ms) ? 0 : PIPELINE_ESTOPPED;
}

int pipeline_apply(pipeline_t *p, applier_item_t *items, size_t n, pipeline_wait_fn wait,
                   void *ud)
{
    long wait_ms = 100;
    bool warned = false;
    for (;;) {
        char err[256] = "";
        int rc = applier_apply(&p->apply, items, n, err, sizeof err);
        if (rc == 0)
            break;
        if (rc != APPLIER_EUNAVAILABLE) {
            snprintf(p->err, sizeof p->err, "%s", err);
            return PIPELINE_EFATAL;
        }
        metric_inc(p->metrics->unavailable, NULL, 1);
        if (!warned)
            log_warn("the REST core is unavailable (%s); retrying until it answers", err);
        warned = true;
        if ((rc = wait ? wait(ud, wait_ms) : sleep_between(p, wait_ms)) != 0)
            return rc;
        wait_ms = wait_ms * 2 > RETRY_CAP_MS ? RETRY_CAP_MS : wait_ms * 2;
    }
    if (warned)
        log_info("the REST core answers again");
    return 0;
}

/* Applies a batch; what the REST core refuses, and the rows that could not
 * travel, go to the dead-letter file. */
static int apply_batch(pipeline_t *p, capture_batch_t *b)
{
    for (size_t i = 0; i < b->nrejects; i++)
        pipeline_dead_letter(p, b->rejects[i].seq, b->rejects[i].id, b->rejects[i].reason,
                             b->rejects[i].detail, NULL, 0);
    int rc = pipeline_apply(p, b->items, b->n, NULL, NULL);
    if (rc < 0)
        return rc;
    int64_t applied = 0;
    for (size_t i = 0; i < b->n; i++) {
        applier_item_t *it = &b->items[i];
        if (it->outcome == APPLIER_APPLIED) {
            applied++;
        } else {
            char reason[24];
            snprintf(reason, sizeof reason, "http_%d", it->status);
            pipeline_dead_letter(p, b->seqs[i], b->ids[i], reason, it->reason, it->json,
                                 it->len);
        }
    }
    metric_inc(p->metrics->applied, NULL, (double)applied);
    atomic_fetch_add(&p->summary->applied, applied);
    pipeline_log_batch(b->n ? b->items[0].traceparent : NULL, "applied", applied, b->nread,
                       "change", b->last);
    return 0;
}

void pipeline_log_batch(const char *traceparent, const char *what, int64_t done, size_t of,
                        const char *last_name, int64_t last)
{
    char trace[TRACE_ID_SIZE];
    /* The REST core logs the same id for the bulk request: the first
     * item's traceparent goes with it. */
    log_traced(LOG_DEBUG, trace_id_of(traceparent, trace) ? trace : NULL,
               "%s %lld of %zu, up to %s %lld", what, (long long)done, of, last_name,
               (long long)last);
}

int pipeline_store_checkpoint(pipeline_t *p, int64_t seq, int64_t *since_compact)
{
    char err[256];
    if (source_checkpoint_set(p->src, PIPELINE_CHECKPOINT, seq, err, sizeof err) < 0) {
        snprintf(p->err, sizeof p->err, "cannot store the checkpoint: %.200s", err);
        return PIPELINE_EFATAL;
    }
    metric_set(p->metrics->checkpoint, NULL, (double)seq);
    atomic_store(&p->metrics->checkpoint_time, pipeline_unix_now());
    if (*since_compact >= COMPACT_EVERY) {
        int64_t deleted = 0;
        if (source_compact(p->src, seq, &deleted, err, sizeof err) < 0)
            log_warn("cannot compact the change log: %s", err);
        else
            log_debug("compacted %lld changes from the change log", (long long)deleted);
        *since_compact = 0;
    }
    return 0;
}

int pipeline_load_checkpoint(pipeline_t *p, int64_t *seq)
{
    char err[256];
    if (source_checkpoint_get(p->src, PIPELINE_CHECKPOINT, seq, err, sizeof err) < 0) {
        snprintf(p->err, sizeof p->err,
                 "cannot read the checkpoint: %.160s (was `articles-sync init` run on this "
                 "source?)",
                 err);
        return PIPELINE_EFATAL;
    }
    metric_set(p->metrics->checkpoint, NULL, (double)*seq);
    return 0;
}

int pipeline_direct(pipeline_t *p)
{
    int64_t ckpt = 0, since_compact = 0;
    capture_t *cap;
    if (pipeline_load_checkpoint(p, &ckpt) < 0 || capture_start(p, ckpt, false, &cap) < 0)
        return PIPELINE_EFATAL;
    int64_t stored = ckpt;
    double stored_at = pipeline_unix_now();
    int rc = 0;
    capture_batch_t *b;
    while ((b = capture_next(cap))) {
        rc = apply_batch(p, b);
        int64_t last = b->last;
        since_compact += (int64_t)b->nread;
        capture_batch_free(b);
        if (rc < 0)
            break;
        ckpt = last;
        if (pipeline_unix_now() - stored_at >= PIPELINE_CHECKPOINT_SECONDS) {
            capture_lock_source(cap);
            rc = pipeline_store_checkpoint(p, ckpt, &since_compact);
            capture_unlock_source(cap);
            if (rc < 0)
                break;
            stored = ckpt;
            stored_at = pipeline_unix_now();
        }
    }
    int reader_rc = capture_stop(cap);
    if (ckpt != stored) {
        int rc2 = pipeline_store_checkpoint(p, ckpt, &since_compact);
        rc = rc < 0 ? rc : rc2;
    }
    return rc < 0 ? rc : reader_rc;
}
