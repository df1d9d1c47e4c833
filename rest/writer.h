/* writer.h - group commit for the REST core on SQLite.
 *
 * SQLite commits one transaction at a time, and the commit, not the
 * statement, is what a single-row write costs. The writer is one thread
 * with its own connection that takes every write waiting in its queue and
 * applies them in one transaction (store_write_batch), so that under load
 * many requests share a commit. Handlers do not wait for it: their
 * connections sleep (http_request_defer) until the writer's callback
 * answers them. */
#ifndef WRITER_H
#define WRITER_H

#include "store.h"

/* Largest batch; beyond it the next batch starts at once. */
#define WRITER_MAX_BATCH 256

typedef struct writer writer_t;

/* Called on the writer thread once job has run (job->rc tells how). */
typedef void (*writer_done_fn)(store_job_t *job, void *user_data);

/* Takes ownership of store (closed by writer_free). NULL when out of memory
 * or the thread cannot start. */
writer_t *writer_new(store_t *store);

/* Queues job; done(job, user_data) runs later on the writer thread. Returns
 * 0, or -1 once writer_close() began: the caller then runs the job itself. */
int writer_submit(writer_t *w, store_job_t *job, writer_done_fn done, void *user_data);

/* Refuses new jobs, finishes every queued one, then stops the thread. */
void writer_close(writer_t *w);
void writer_free(writer_t *w);

#endif
