/* applier.h - applies changes to the REST core, the last step of the sync
 * daemon (direct transport and Kafka consumer alike): bulk items go out in
 * batches through POST /articles/bulk, which the REST core applies all or
 * nothing, in order.
 *
 * An item the REST core refuses for good (400/422 naming it by index, or
 * too large alone) is set aside as rejected, for the dead letters, and the
 * rest of its batch is sent again: one poison change never blocks the
 * others. When the REST core does not answer, answers 408, 429 or 5xx, or
 * its circuit breaker is open, applier_apply stops and says so; the caller
 * waits (the Kafka consumer pauses its partitions) and calls again with the
 * same items, whose outcomes tell what is left. Upserts carry their id and
 * deletes of missing ids are no-ops, so applying an item twice is harmless.
 *
 * Errors: 0 or a negative APPLIER_E* code with a message in err. */
#ifndef SYNC_APPLIER_H
#define SYNC_APPLIER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "http_client.h"

enum {
    APPLIER_EUNAVAILABLE = -1, /* the REST core cannot take changes now: retry later */
    APPLIER_EFATAL = -2,       /* refused in a way retrying cannot fix (401, 403...) */
    APPLIER_ENOMEM = -3,
};

typedef enum applier_outcome {
    APPLIER_PENDING = 0, /* not applied yet */
    APPLIER_APPLIED,
    APPLIER_REJECTED,    /* refused for good: see status and reason */
} applier_outcome_t;

typedef struct applier_item {
    /* input, borrowed */
    const char *json;        /* one bulk item: {"op":"upsert","article":{...}} or a delete */
    size_t len;
    const char *traceparent; /* the change's W3C traceparent, or NULL */
    bool joined;             /* same article as the item before: sent in its request */
    /* outcome */
    applier_outcome_t outcome;
    int status;              /* the REST core's status when rejected */
    char reason[192];        /* its detail when rejected */
} applier_item_t;

typedef struct applier_config {
    http_client_t *client;     /* borrowed; the REST core */
    const char *authorization; /* "Bearer <token>", or NULL */
    size_t max_batch;          /* items per request, at most the REST core's --max-bulk-ops [1000] */
} applier_config_t;

/* Applies every pending item of items[0..n) in order. Returns 0 when each
 * is applied or rejected, APPLIER_EUNAVAILABLE when the REST core stopped
 * answering (the items applied so far say so), APPLIER_EFATAL or
 * APPLIER_ENOMEM with err. Safe from one thread per config. */
int applier_apply(const applier_config_t *cfg, applier_item_t *items, size_t n, char *err,
                  size_t errlen);

#endif
