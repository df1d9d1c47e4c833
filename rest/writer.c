/* writer.c - the group-commit thread of the REST core; see writer.h. */
#include "writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"

typedef struct item {
    store_job_t *job;
    writer_done_fn done;
    void *user_data;
    struct item *next;
} item_t;

struct writer {
    store_t *store; /* owned; used by the writer thread only */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item_t *head, *tail; /* queued jobs, oldest first */
    bool closing;
    bool started;
};

/* Takes up to WRITER_MAX_BATCH items off the queue; blocks while it is
 * empty. Returns 0 when closing and nothing is left. */
static size_t take_batch(writer_t *w, item_t **batch)
{
    size_t n = 0;
    pthread_mutex_lock(&w->mu);
    while (!w->head && !w->closing)
        pthread_cond_wait(&w->cv, &w->mu);
    while (w->head && n < WRITER_MAX_BATCH) {
        batch[n++] = w->head;
        w->head = w->head->next;
    }
    if (!w->head)
        w->tail = NULL;
    pthread_mutex_unlock(&w->mu);
    return n;
}

static void *writer_main(void *arg)
{
    writer_t *w = arg;
    item_t *batch[WRITER_MAX_BATCH];
    store_job_t *jobs[WRITER_MAX_BATCH];
    size_t n;
    while ((n = take_batch(w, batch)) > 0) {
        for (size_t i = 0; i < n; i++)
            jobs[i] = batch[i]->job;
        if (store_write_batch(w->store, jobs, n) != STORE_OK)
            log_error("write batch of %zu failed: %s", n, store_errmsg(w->store));
        for (size_t i = 0; i < n; i++) {
            batch[i]->done(batch[i]->job, batch[i]->user_data);
            free(batch[i]);
        }
    }
    return NULL;
}

writer_t *writer_new(store_t *store)
{
    writer_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->store = store;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        writer_free(w);
        return NULL;
    }
    w->started = true;
    return w;
}

int writer_submit(writer_t *w, store_job_t *job, writer_done_fn done, void *user_data)
{
    item_t *it = malloc(sizeof *it);
    if (!it)
        return -1;
    *it = (item_t){job, done, user_data, NULL};
    pthread_mutex_lock(&w->mu);
    if (w->closing) {
        pthread_mutex_unlock(&w->mu);
        free(it);
        return -1;
    }
    if (w->tail)
        w->tail->next = it;
    else
        w->head = it;
    w->tail = it;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

void writer_close(writer_t *w)
{
    if (!w || !w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->closing = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->started = false;
}

void writer_free(writer_t *w)
{
    if (!w)
        return;
    writer_close(w);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    store_close(w->store);
    free(w);
}
