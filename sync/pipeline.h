/* pipeline.h - the loops of the sync daemon: changes read from the source
 * go to the REST core directly (the direct transport) or through Kafka (a
 * producer and a consumer, in one process or apart).
 *
 * Nothing is lost: the source's checkpoint moves only after the changes up
 * to it were applied (direct) or confirmed by Kafka's delivery reports
 * (producer), and Kafka offsets only after the REST core applied the
 * events (consumer). A crash at any moment therefore replays a little,
 * never skips: every change carries the article's current row, and applying
 * one twice is harmless. Changes the REST core refuses for good are dead
 * letters (the Kafka topic TOPIC.dlq, or with the direct transport a JSON
 * lines file) and never block the others.
 *
 * One pipeline_t per loop; the loops stop when *stop becomes true, saving
 * what they finished. */
#ifndef SYNC_PIPELINE_H
#define SYNC_PIPELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "applier.h"
#include "metrics.h"
#include "source.h"

/* The checkpoint of the capture position, in the source's state table. */
#define PIPELINE_CHECKPOINT "sync"

enum {
    PIPELINE_EFATAL = -1,   /* a setting or the database is wrong: the message says what */
    PIPELINE_ESTOPPED = -2, /* stopped before catching up (signal) */
};

/* Counters of one run, for the closing summary of `run --once`. */
typedef struct pipeline_summary {
    _Atomic int64_t read;          /* changes read from the source */
    _Atomic int64_t produced;      /* events confirmed by Kafka */
    _Atomic int64_t applied;       /* events the REST core applied */
    _Atomic int64_t dead_lettered; /* refused for good */
} pipeline_summary_t;

/* The daemon's metrics; see pipeline_metrics_new for their names. */
typedef struct pipeline_metrics {
    metric_t *read, *produced, *applied, *dead, *unavailable;
    metric_t *backlog, *checkpoint, *checkpoint_age, *lag, *assigned, *caught_up;
    _Atomic double checkpoint_time; /* when the checkpoint last moved, unix seconds */
} pipeline_metrics_t;

typedef struct pipeline {
    source_t *src;              /* the source database (direct, producer) */
    applier_config_t apply;     /* the REST core (direct, consumer) */
    size_t batch;               /* changes per read, events per apply */
    long poll_ms;               /* --follow: pause when caught up */
    bool follow;                /* keep going once caught up */
    atomic_bool *stop;
    FILE *dead_letters;         /* direct transport: JSON lines, or NULL to only log them */
    const char *brokers;        /* Kafka: bootstrap servers */
    const char *topic;          /* Kafka: the events' topic; dead letters go to TOPIC.dlq */
    const char *group;          /* Kafka: the consumer group */
    struct produced *produced;  /* run with Kafka: what the producing side did, for the
                                 * consuming side (pipeline_kafka.c); NULL when
                                 * consuming alone */
    pipeline_metrics_t *metrics;
    pipeline_summary_t *summary;
    char err[256];              /* why a loop failed */
} pipeline_t;

/* Registers the sync_* metrics in reg. Returns 0 or -1. */
int pipeline_metrics_new(metrics_registry_t *reg, pipeline_metrics_t *m);

/* Source straight to the REST core. Returns 0 when caught up (or, with
 * follow, when stopped), else PIPELINE_E* with p->err. */
int pipeline_direct(pipeline_t *p);

/* The Kafka transport (pipeline_kafka.c). pipeline_produce publishes the
 * source's changes; its checkpoint moves once Kafka confirmed every event
 * up to it. pipeline_consume applies the topic's events; it stores offsets
 * once the REST core applied them, pauses its partitions while the REST
 * core is unavailable, and without follow ends when nothing is left to
 * consume (and, in one process with a producer, once that caught up and
 * every event it delivered is applied). pipeline_run_kafka runs both, the producer in a second thread. */
int pipeline_produce(pipeline_t *p);
int pipeline_consume(pipeline_t *p);
int pipeline_run_kafka(pipeline_t *p);
/* The dead-letter topic of a topic: TOPIC.dlq. */
void pipeline_dlq_topic(const char *topic, char *out, size_t len);

/* Sleeps ms milliseconds, waking early when *stop is set. Returns false
 * when it was. */
bool pipeline_sleep(atomic_bool *stop, long ms);

/* Checkpoints are stored at most this often (and at the end): each is a
 * commit on the source, and a crash replays at most this much. */
#define PIPELINE_CHECKPOINT_SECONDS 0.2

/* ---- for the transports (pipeline.c, pipeline_kafka.c) ---- */

double pipeline_unix_now(void);
/* The checkpoint from the source (0 before the first run). */
int pipeline_load_checkpoint(pipeline_t *p, int64_t *seq);
/* Stores seq as the checkpoint and compacts the change log now and then. */
int pipeline_store_checkpoint(pipeline_t *p, int64_t seq, int64_t *since_compact);
/* applier_apply until the REST core answered, however long it takes.
 * Between tries wait(ud, ms) waits (NULL: sleep, ending early on stop);
 * it returns 0 to try again, or what pipeline_apply should return. */
typedef int (*pipeline_wait_fn)(void *ud, long ms);
int pipeline_apply(pipeline_t *p, applier_item_t *items, size_t n, pipeline_wait_fn wait,
                   void *ud);
/* Logs (debug) what happened to a batch, with its first change's trace id. */
void pipeline_log_batch(const char *traceparent, const char *what, int64_t done, size_t of,
                        const char *last_name, int64_t last);
/* Counts a dead letter; pipeline_dead_letter also logs it and writes it
 * to the dead-letter file. */
void pipeline_count_dead(pipeline_t *p, const char *reason);
void pipeline_dead_letter(pipeline_t *p, int64_t seq, int64_t id, const char *reason,
                          const char *detail, const char *item, size_t item_len);

#endif
