/* capture.c - the read-ahead thread of the change log; see capture.h. */
#include "capture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "event.h"
#include "log.h"

#define QUEUE_DEPTH 2

struct capture {
    pipeline_t *p;
    bool events;
    int64_t after;
    pthread_t tid;
    /* A second connection would contend with the first for SQLite's file
     * lock (a checkpoint write waits for a read): the two sides take turns
     * on one instead. */
    pthread_mutex_t src_lock;
    pthread_mutex_t lock; /* what follows */
    pthread_cond_t cond;
    capture_batch_t *slots[QUEUE_DEPTH];
    size_t head, count;
    bool done, quit;
    int rc;
};

void capture_batch_free(capture_batch_t *b)
{
    if (!b)
        return;
    free(b->items);
    free(b->seqs);
    free(b->ids);
    free(b->traces);
    free(b->rejects);
    buf_free(&b->json);
    free(b);
}

static int alloc_batch(capture_batch_t *b, size_t n)
{
    size_t k = n ? n : 1;
    b->items = calloc(k, sizeof *b->items);
    b->seqs = calloc(k, sizeof *b->seqs);
    b->ids = calloc(k, sizeof *b->ids);
    b->traces = calloc(k, sizeof *b->traces);
    b->rejects = calloc(k, sizeof *b->rejects);
    return b->items && b->seqs && b->ids && b->traces && b->rejects ? 0 : -1;
}

static void add_reject(capture_batch_t *b, const source_change_t *ch, const event_error_t *err)
{
    capture_reject_t *r = &b->rejects[b->nrejects++];
    r->seq = ch->seq;
    r->id = ch->article.id;
    r->reason = err->reason ? err->reason : EVENT_R_BAD_VALUE;
    snprintf(r->detail, sizeof r->detail, "%s", err->message);
}

/* Turns changes into items. Returns 0 or -1 (out of memory). */
static int build(capture_t *c, const source_change_t *ch, size_t n, capture_batch_t *b)
{
    size_t *offs = calloc(n + 1, sizeof *offs);
    if (!offs || alloc_batch(b, n) < 0) {
        free(offs);
        return -1;
    }
    char ts[EVENT_TS_LEN];
    event_now(ts);
    source_kind_t kind = source_kind(c->p->src);
    for (size_t i = 0; i < n; i++) {
        event_t ev;
        event_error_t err;
        changes_scratch_t scratch;
        if (changes_to_event(&ch[i], kind, ts, &scratch, &ev, &err) < 0) {
            add_reject(b, &ch[i], &err);
            continue;
        }
        size_t start = b->json.len;
        int rc = c->events ? event_encode(&ev, &b->json) : event_to_bulk_item(&ev, &b->json);
        if (rc == EVENT_EINVAL) { /* too large once escaped */
            event_validate(&ev, &err);
            add_reject(b, &ch[i], &err);
            continue;
        }
        if (rc < 0) {
            free(offs);
            return -1;
        }
        offs[b->n] = start;
        b->seqs[b->n] = ch[i].seq;
        b->ids[b->n] = ch[i].article.id;
        trace_parent_new(b->traces[b->n]);
        b->items[b->n].len = b->json.len - start;
        b->n++;
    }
    /* Pointers only now: the buffer moved while it grew. */
    for (size_t i = 0; i < b->n; i++) {
        b->items[i].json = b->json.data + offs[i];
        b->items[i].traceparent = b->traces[i];
    }
    free(offs);
    return b->json.failed ? -1 : 0;
}

/* Reads the next changes, waiting out an unavailable source. */
static int read_changes(capture_t *c, source_change_t **ch, size_t *n)
{
    pipeline_t *p = c->p;
    char err[256];
    for (;;) {
        pthread_mutex_lock(&c->src_lock);
        int rc = source_read_changes(p->src, c->after, p->batch, ch, n, err, sizeof err);
        pthread_mutex_unlock(&c->src_lock);
        if (rc == 0)
            return 0;
        if (rc != SOURCE_EUNAVAILABLE) {
            snprintf(p->err, sizeof p->err, "%.200s%s", err,
                     rc == SOURCE_ESCHEMA ? " (run `articles-sync init` first)" : "");
            return PIPELINE_EFATAL;
        }
        log_warn("the source is unavailable: %s", err);
        if (!pipeline_sleep(p->stop, 1000))
            return PIPELINE_ESTOPPED;
    }
}

/* One batch read and built; *out stays NULL when caught up. */
static int read_batch(capture_t *c, capture_batch_t **out)
{
    pipeline_t *p = c->p;
    source_change_t *ch = NULL;
    size_t n = 0;
    int rc = read_changes(c, &ch, &n);
    if (rc < 0 || n == 0)
        return rc;
    metric_set(p->metrics->caught_up, NULL, 0);
    metric_inc(p->metrics->read, NULL, (double)n);
    atomic_fetch_add(&p->summary->read, (int64_t)n);
    capture_batch_t *b = calloc(1, sizeof *b);
    if (!b || build(c, ch, n, b) < 0) {
        capture_batch_free(b);
        source_changes_free(ch);
        snprintf(p->err, sizeof p->err, "out of memory");
        return PIPELINE_EFATAL;
    }
    b->last = c->after = ch[n - 1].seq;
    b->nread = n;
    source_changes_free(ch);
    *out = b;
    return 0;
}

/* Queues b; false when the sending side quit (b is then freed). */
static bool push(capture_t *c, capture_batch_t *b)
{
    pthread_mutex_lock(&c->lock);
    while (c->count == QUEUE_DEPTH && !c->quit)
        pthread_cond_wait(&c->cond, &c->lock);
    bool ok = !c->quit;
    if (ok) {
        c->slots[(c->head + c->count) % QUEUE_DEPTH] = b;
        c->count++;
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
    if (!ok)
        capture_batch_free(b);
    return ok;
}

/* The backlog gauge, at most once a second: counting the log after every
 * batch would cost as much as reading it. */
static void update_backlog(capture_t *c, double *last)
{
    double now = pipeline_unix_now();
    if (now - *last < 1.0)
        return;
    *last = now;
    int64_t count = 0;
    pthread_mutex_lock(&c->src_lock);
    int rc = source_backlog(c->p->src, c->after, &count, NULL, NULL, 0);
    pthread_mutex_unlock(&c->src_lock);
    if (rc == 0)
        metric_set(c->p->metrics->backlog, NULL, (double)count);
}

static void *reader_main(void *arg)
{
    capture_t *c = arg;
    pipeline_t *p = c->p;
    double backlog_at = 0;
    int rc = PIPELINE_ESTOPPED;
    while (!atomic_load(p->stop)) {
        capture_batch_t *b = NULL;
        if ((rc = read_batch(c, &b)) < 0)
            break;
        if (b) {
            rc = PIPELINE_ESTOPPED;
            if (!push(c, b))
                break;
            update_backlog(c, &backlog_at);
            continue;
        }
        metric_set(p->metrics->caught_up, NULL, 1);
        metric_set(p->metrics->backlog, NULL, 0);
        if (!p->follow)
            break; /* rc is 0: caught up */
        rc = PIPELINE_ESTOPPED;
        pipeline_sleep(p->stop, p->poll_ms);
    }
    pthread_mutex_lock(&c->lock);
    c->done = true;
    c->rc = rc;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int capture_start(pipeline_t *p, int64_t after, bool events, capture_t **out)
{
    capture_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(p->err, sizeof p->err, "out of memory");
        return -1;
    }
    c->p = p;
    c->after = after;
    c->events = events;
    pthread_mutex_init(&c->src_lock, NULL);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->tid, NULL, reader_main, c) != 0) {
        snprintf(p->err, sizeof p->err, "cannot start the reader thread");
        pthread_cond_destroy(&c->cond);
        pthread_mutex_destroy(&c->lock);
        pthread_mutex_destroy(&c->src_lock);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

capture_batch_t *capture_next(capture_t *c)
{
    pthread_mutex_lock(&c->lock);
    while (c->count == 0 && !c->done)
        pthread_cond_wait(&c->cond, &c->lock);
    capture_batch_t *b = NULL;
    if (c->count) {
        b = c->slots[c->head];
        c->head = (c->head + 1) % QUEUE_DEPTH;
        c->count--;
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
    return b;
}

void capture_lock_source(capture_t *c)
{
    pthread_mutex_lock(&c->src_lock);
}

void capture_unlock_source(capture_t *c)
{
    pthread_mutex_unlock(&c->src_lock);
}

int capture_stop(capture_t *c)
{
    pthread_mutex_lock(&c->lock);
    c->quit = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->tid, NULL);
    while (c->count) {
        capture_batch_free(c->slots[c->head]);
        c->head = (c->head + 1) % QUEUE_DEPTH;
        c->count--;
    }
    int rc = c->rc;
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->src_lock);
    free(c);
    return rc;
}
