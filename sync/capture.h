/* capture.h - reading ahead in the source's change log: a thread reads the
 * changes after a position, batch by batch, and turns each batch into the
 * items the sending side needs (REST bulk items for the direct transport,
 * event values for Kafka), in a short queue. Reading and converting thus
 * overlap with sending, while sending stays one thread, so batches go out
 * in order and the order of each article's changes holds.
 *
 * Rows that cannot travel (no title, too long...) become rejects of their
 * batch, for the sending side to dead-letter in order with the rest. */
#ifndef SYNC_CAPTURE_H
#define SYNC_CAPTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "applier.h"
#include "buf.h"
#include "pipeline.h"
#include "source.h"
#include "trace.h"

typedef struct capture_reject {
    int64_t seq, id;
    const char *reason; /* an EVENT_R_* code */
    char detail[160];
} capture_reject_t;

/* One read's changes. items[i].json is the bulk item or the event value;
 * seqs, ids and the traceparents run beside items. */
typedef struct capture_batch {
    applier_item_t *items;
    int64_t *seqs, *ids;
    size_t n;
    capture_reject_t *rejects;
    size_t nrejects;
    int64_t last; /* the highest seq read: the checkpoint once all is done */
    size_t nread;
    buf_t json;
    char (*traces)[TRACE_PARENT_SIZE];
} capture_batch_t;

typedef struct capture capture_t;

/* Starts reading after seq `after` with p's source, batch size, follow and
 * poll settings; events selects event values over bulk items. Returns 0 or
 * -1 with p->err. */
int capture_start(pipeline_t *p, int64_t after, bool events, capture_t **out);

/* The next batch (caller frees with capture_batch_free), or NULL when the
 * reader is done: caught up without --follow, stopped, or failed. */
capture_batch_t *capture_next(capture_t *c);
void capture_batch_free(capture_batch_t *b);

/* The source connection is shared with the reader thread: hold this lock
 * around any other use of it (checkpoints). */
void capture_lock_source(capture_t *c);
void capture_unlock_source(capture_t *c);

/* Stops the reader and frees c. Returns 0 when it had caught up,
 * PIPELINE_ESTOPPED, or PIPELINE_EFATAL with p->err. */
int capture_stop(capture_t *c);

#endif
