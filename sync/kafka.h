/* kafka.h - the sync daemon's one door to Apache Kafka (librdkafka); no other
 * module includes librdkafka. Three parts:
 *   - an idempotent producer (acks=all) whose delivery reports move the
 *     source checkpoint: kafka_producer_confirmed() is the highest token T
 *     such that every message produced with a token <= T is on the broker;
 *   - a synchronous dead-letter sender (kafka_dlq_send, kafka_dlq_send_message);
 *   - a group consumer with explicit offset storage (at-least-once),
 *     pause/resume for backpressure and per-partition lag from statistics.
 * Records are those of event.h: key = article id in decimal, value = JSON.
 *
 * ---- Producer: delivery tracking -------------------------------------------
 *
 * Every kafka_produce() carries the caller's token (the source change seq);
 * tokens must never decrease (equal tokens are allowed: several messages of
 * one change). The producer keeps the tokens still waiting for a delivery
 * report in a ring ordered by token (at most queue.buffering.max.messages
 * entries). Reports arrive out of order across partitions; the confirmed
 * token only moves over a prefix of the ring whose messages were all
 * delivered. A message that fails for good (librdkafka retried it until
 * message.timeout.ms, or the idempotent producer hit a fatal error) is never
 * passed over: kafka_producer_confirmed() stops below it for the life of the
 * producer and kafka_producer_failed() reports the error, so the caller stops
 * advancing its checkpoint, closes the producer and starts again from its
 * last checkpoint (the consumer side is idempotent per seq).
 * Reports are delivered by kafka_producer_poll() / kafka_producer_flush() /
 * kafka_produce() (when the queue is full) on the calling thread.
 *
 * ---- Consumer: offsets, rebalances, pause -----------------------------------
 *
 * enable.auto.commit=true with enable.auto.offset.store=false: librdkafka
 * commits every auto.commit.interval.ms what the caller stored with
 * kafka_store_offsets() after the REST core acknowledged a batch; nothing is
 * committed that was not applied (at-least-once; duplicates after a crash or
 * rebalance are possible and harmless because events carry their seq).
 *
 * Rebalances use the eager protocol (partition.assignment.strategy
 * range,roundrobin; "cooperative-sticky" given through props works too, with
 * incremental assign/unassign). They are served on the caller's thread inside
 * kafka_consume_batch() / kafka_consumer_close(). On revoke, in this order:
 * cfg->on_revoke is called (the partitions are still ours: the caller may
 * finish in-flight work and store its offsets, or abandon it), the stored
 * offsets are committed synchronously (skipped when the assignment was lost,
 * e.g. after a session timeout: the commit would be refused), then the
 * partitions are given up. With the eager protocol every rebalance revokes
 * every partition, so after on_revoke the caller should drop every message
 * it still holds: the next owner (maybe this consumer again) re-reads from
 * the committed offset. kafka_store_offsets() skips messages of partitions no
 * longer assigned (librdkafka refuses them), so a stale batch cannot store.
 *
 * kafka_pause() stops fetching for every assigned partition; messages
 * librdkafka had already fetched but not returned are discarded and fetched
 * again after kafka_resume(), starting right after the last message returned
 * by kafka_consume_batch(). Messages already returned are NOT re-delivered:
 * the caller keeps its in-hand batch and retries it while paused. The pause
 * is a state of the consumer, not of partitions: partitions assigned by a
 * rebalance while paused are paused at once, and kafka_resume() resumes
 * whatever is assigned then. The caller must keep calling
 * kafka_consume_batch() while paused (it returns no messages): that serves
 * rebalances and statistics and keeps the consumer in its group
 * (max.poll.interval.ms).
 *
 * Lag: statistics (statistics.interval.ms) carry librdkafka's consumer_lag
 * per partition, the end offset minus the group's committed offset. For a
 * partition the group never committed, the lag is hi_offset - lo_offset
 * (auto.offset.reset=earliest: the whole retained log is still to do); -1
 * when unknown.
 *
 * Threads: a producer or a consumer is used by one thread at a time, except
 * kafka_producer_confirmed/_failed, kafka_consumer_lag and
 * kafka_consumer_assignment_count, which any thread may call (metrics). */
#ifndef KAFKA_H
#define KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    KAFKA_EINVAL = -1,    /* a bad argument or configuration property; err says which */
    KAFKA_ENOMEM = -2,    /* out of memory */
    KAFKA_ETIMEDOUT = -3, /* flush: messages still without a delivery report */
    KAFKA_EDELIVERY = -4, /* a message failed for good; err or the summary says why */
    KAFKA_ETOOLARGE = -5, /* a message above message.max.bytes: dead-letter it */
    KAFKA_EFATAL = -6,    /* fatal client error: free the handle and make a new one */
    KAFKA_EKAFKA = -7,    /* any other librdkafka error (logged, or in err) */
};

/* Limits: so that a typo cannot make a handle with thousands of properties. */
#define KAFKA_MAX_PROPS 64
/* Tokens from 1 to this (a source seq is an int64_t); 0 means "none
 * confirmed yet". */
#define KAFKA_MAX_TOKEN ((uint64_t)INT64_MAX)

typedef struct kafka_consumer kafka_consumer_t;
typedef struct kafka_producer kafka_producer_t;

/* Called on the consuming thread before partitions are taken away (see
 * above). lost: the group already gave them to someone else (session
 * timeout); storing offsets is then pointless. The array is borrowed for the
 * call. The callback may call kafka_store_offsets() and kafka_commit(), not
 * kafka_consume_batch() or kafka_consumer_close(). */
typedef void (*kafka_revoke_fn)(kafka_consumer_t *c, const int32_t *partitions, size_t n, bool lost,
                                void *arg);

typedef struct kafka_config {
    const char *brokers;   /* bootstrap.servers, e.g. "127.0.0.1:9092"; required */
    const char *topic;     /* the topic produced to / subscribed to; required */
    const char *client_id; /* client.id; NULL: "articles-sync" */
    const char *group;     /* consumer: group.id; required for a consumer */
    /* consumer: statistics.interval.ms; 0 means 1000, negative turns
     * statistics (and so the lag) off. */
    int stats_interval_ms;
    /* Further librdkafka properties, "key=value" each (at most
     * KAFKA_MAX_PROPS), applied after our defaults. The properties the
     * guarantees rest on are refused: enable.idempotence, acks
     * (request.required.acks), enable.auto.commit and
     * enable.auto.offset.store. */
    const char *const *props;
    size_t nprops;
    kafka_revoke_fn on_revoke; /* consumer, optional */
    void *on_revoke_arg;
} kafka_config_t;

/* ---- producer ---------------------------------------------------------------- */

typedef struct kafka_delivery_summary {
    uint64_t produced;  /* messages enqueued since the producer was made (DLQ not counted) */
    uint64_t delivered; /* of those, delivered */
    uint64_t failed;    /* of those, failed for good */
    uint64_t in_flight; /* still without a delivery report */
    uint64_t confirmed; /* kafka_producer_confirmed() */
    int first_error;    /* 0, or KAFKA_EDELIVERY / KAFKA_EFATAL of the first failure */
    char first_error_text[200]; /* librdkafka's words for it, "" when none */
} kafka_delivery_summary_t;

/* The producer's partitioner: article id / KAFKA_ID_BLOCK % partitions.
 * Each article always lands in the same partition, as with a hash, but a
 * partition carries runs of neighbouring ids, so the destination writes a
 * consumer's batch into few B-tree pages: measured on 200,000 inserts and
 * then updates, the REST core's CPU fell by 25-45% and the consumer's time
 * by 35-45% against runs of one id, with runs of 16 to 1024 alike. Runs of
 * 64 still spread a table of a few hundred articles, and a burst of new
 * ones, over the partitions (so over a group's consumers). The
 * "partitioner" property in cfg->props replaces it. Adding partitions to a
 * topic moves ids, as with any hash: drain the topic first. */
#define KAFKA_ID_BLOCK 64

/* Makes an idempotent producer for cfg->topic: enable.idempotence=true,
 * acks=all, linger.ms=5, batches up to 10,000 messages or 1 MiB, lz4
 * compression when librdkafka has it, at most 32 MiB / 100,000 messages
 * queued. Returns 0 with *out (free with kafka_producer_free), or
 * KAFKA_EINVAL / KAFKA_ENOMEM / KAFKA_EKAFKA with err filled. */
int kafka_producer_new(const kafka_config_t *cfg, kafka_producer_t **out, char *err, size_t errlen);

/* Enqueues one message (copied; nothing is borrowed after the call) with the
 * header "traceparent" when traceparent is not NULL. Never waits for the
 * broker, except that a full local queue is drained by polling (serving
 * delivery reports) until there is room. token: 1..KAFKA_MAX_TOKEN, never
 * below the previous call's. Returns 0, KAFKA_EINVAL (token out of order),
 * KAFKA_ETOOLARGE, KAFKA_EFATAL, KAFKA_ENOMEM or KAFKA_EKAFKA (logged). */
int kafka_produce(kafka_producer_t *p, const void *key, size_t keylen, const void *value,
                  size_t valuelen, const char *traceparent, uint64_t token);

/* Serves delivery reports, waiting up to timeout_ms for the first one (0:
 * no wait). Returns how many events were served. */
int kafka_producer_poll(kafka_producer_t *p, int timeout_ms);

/* *token = the highest token T with every message of a token <= T
 * delivered; 0 when none is. Does not poll. Always returns 0. */
int kafka_producer_confirmed(kafka_producer_t *p, uint64_t *token);

/* 0 while no message failed for good; else KAFKA_EDELIVERY or KAFKA_EFATAL
 * (sticky) with librdkafka's words in err (may be NULL). */
int kafka_producer_failed(kafka_producer_t *p, char *err, size_t errlen);

/* Waits up to timeout_ms until every enqueued message has its delivery
 * report. Fills *out (may be NULL). Returns 0 when all are reported and
 * none ever failed, KAFKA_EDELIVERY / KAFKA_EFATAL when one failed,
 * otherwise KAFKA_ETIMEDOUT. */
int kafka_producer_flush(kafka_producer_t *p, int timeout_ms, kafka_delivery_summary_t *out);

/* Where a partition ends: the offset after its last message known. */
typedef struct kafka_end {
    int32_t partition;
    int64_t offset;
} kafka_end_t;

/* The offset after the last message of the main topic delivered so far, for
 * each partition that got one, by partition. Returns their count with
 * *ends (the caller frees it; NULL when none), or KAFKA_ENOMEM. */
int kafka_producer_ends(kafka_producer_t *p, kafka_end_t **ends);

/* Flushes for up to 10 s (logging what stays undelivered), then frees.
 * NULL is fine. */
void kafka_producer_free(kafka_producer_t *p);

/* ---- dead letters ------------------------------------------------------------ */

typedef struct kafka_dlq_info {
    const char *reason;       /* header dlq.reason, e.g. EVENT_R_BAD_JSON; required */
    const char *detail;       /* header dlq.detail, one sentence; NULL: omitted */
    const char *source_topic; /* header dlq.source.topic; NULL: omitted */
    int32_t source_partition; /* header dlq.source.partition (decimal) */
    int64_t source_offset;    /* header dlq.source.offset (decimal) */
    const char *traceparent;  /* header traceparent; NULL: omitted */
} kafka_dlq_info_t;

/* Sends one message to dlq_topic (any topic but the producer's own) with the
 * headers above and waits for its delivery report, so the caller may then
 * store the source offset. Serves the producer's other delivery reports
 * while waiting; does not touch its tokens. Waits at most message.timeout.ms
 * (librdkafka guarantees a report by then). Returns 0, or KAFKA_EINVAL /
 * KAFKA_ETOOLARGE / KAFKA_EDELIVERY / KAFKA_EFATAL / KAFKA_EKAFKA with err
 * filled. */
int kafka_dlq_send(kafka_producer_t *p, const char *dlq_topic, const void *key, size_t keylen,
                   const void *value, size_t valuelen, const kafka_dlq_info_t *info, char *err,
                   size_t errlen);

/* ---- consumer ---------------------------------------------------------------- */

/* One consumed message. Every pointer is owned by the batch and valid until
 * kafka_messages_free(). key/value are not NUL-terminated (NULL when absent,
 * with length 0). */
typedef struct kafka_message {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* -1 when the broker gave none */
    const void *key;
    size_t keylen;
    const void *value;
    size_t valuelen;
    char *traceparent; /* NUL-terminated copy of the last "traceparent" header, or NULL */
    void *raw;         /* the rd_kafka_message_t, for this module only */
} kafka_message_t;

/* Makes a consumer of cfg->group subscribed to cfg->topic (see the top of
 * this file for the settings). Returns 0 with *out (close with
 * kafka_consumer_close), or KAFKA_EINVAL / KAFKA_ENOMEM / KAFKA_EKAFKA with
 * err filled. */
int kafka_consumer_new(const kafka_config_t *cfg, kafka_consumer_t **out, char *err, size_t errlen);

/* Returns in *msgs (caller frees with kafka_messages_free; NULL when *n is
 * 0) up to max messages (1..KAFKA_MAX_BATCH): waits up to timeout_ms for the
 * first, then takes only what is already fetched. Serves rebalances
 * (on_revoke) and statistics; what it polled from a partition before that
 * partition was revoked is dropped, not returned (its next owner reads it
 * again from the committed offset). Consumer errors (a broker down, an unknown
 * topic) are logged and skipped. Returns 0 (also with *n == 0),
 * KAFKA_EINVAL, KAFKA_ENOMEM or KAFKA_EFATAL. */
#define KAFKA_MAX_BATCH 100000
int kafka_consume_batch(kafka_consumer_t *c, size_t max, int timeout_ms, kafka_message_t **msgs,
                        size_t *n);

/* Frees a batch of kafka_consume_batch (NULL is fine). */
void kafka_messages_free(kafka_message_t *msgs, size_t n);

/* The value of the last header called name of m: 0 with *value, *len
 * borrowed from m (not NUL-terminated; NULL/0 for a null header), or -1
 * when m has no such header. */
int kafka_message_header(const kafka_message_t *m, const char *name, const void **value,
                         size_t *len);

/* kafka_dlq_send for a consumed message: its key, value, traceparent,
 * topic, partition and offset. */
int kafka_dlq_send_message(kafka_producer_t *p, const char *dlq_topic, const kafka_message_t *m,
                           const char *reason, const char *detail, char *err, size_t errlen);

/* Stores, for each partition among msgs[0..n), the offset after its highest
 * message there, to be committed by the next auto-commit, kafka_commit() or
 * close. Call it once the messages are applied. Messages of partitions no
 * longer assigned are skipped (logged at debug level). Returns 0 or
 * KAFKA_ENOMEM / KAFKA_EKAFKA (logged). */
int kafka_store_offsets(kafka_consumer_t *c, const kafka_message_t *msgs, size_t n);

/* Commits the stored offsets now and waits for the broker's answer. 0 also
 * when there was nothing to commit; KAFKA_EKAFKA (logged) otherwise. */
int kafka_commit(kafka_consumer_t *c);

/* Backpressure: stop / restart fetching every assigned partition (see the
 * top of this file). Idempotent. Return 0 or KAFKA_EKAFKA (logged). */
int kafka_pause(kafka_consumer_t *c);
int kafka_resume(kafka_consumer_t *c);
bool kafka_paused(const kafka_consumer_t *c);

typedef struct kafka_lag {
    int32_t partition;
    int64_t lag; /* messages; -1 unknown */
} kafka_lag_t;

/* Copies the lag of up to max assigned partitions, by partition number, to
 * out and their count to *n. Partitions without statistics yet have -1.
 * Returns 0. */
int kafka_consumer_lag(kafka_consumer_t *c, kafka_lag_t *out, size_t max, size_t *n);

/* Whether every partition this consumer holds is committed up to its end:
 * the group's committed offsets (asked of the coordinator, waiting at most
 * timeout_ms) against the larger of the high watermark of the partition's
 * last fetch and its entry in ends (n of them, by partition; a producer's
 * deliveries: a fetch may not have seen them yet). Exact, unlike the lag of
 * statistics, so a run can end as soon as it is true; call kafka_commit()
 * first. Copies up to max lags, by partition, to out (-1 unknown). Returns 1
 * at the end, 0 not (or nothing assigned, or a partition not fetched yet),
 * or KAFKA_EKAFKA (logged). */
int kafka_consumer_at_end(kafka_consumer_t *c, const kafka_end_t *ends, size_t nends,
                          int timeout_ms, kafka_lag_t *out, size_t max, size_t *n);

/* How many partitions this consumer holds now. */
size_t kafka_consumer_assignment_count(kafka_consumer_t *c);

/* Commits the stored offsets, leaves the group (on_revoke is called a last
 * time), and frees. NULL is fine. Returns 0 or KAFKA_EKAFKA when the final
 * commit or the close failed (logged; the handle is freed anyway). */
int kafka_consumer_close(kafka_consumer_t *c);

/* ---- topics ------------------------------------------------------------------ */

/* Creates the topics that do not exist yet (n at most 16) with that many
 * partitions and the broker's default replication; existing ones are left
 * as they are. Returns 0 or a negative KAFKA_E* code with err filled. */
int kafka_ensure_topics(const char *brokers, const char *const *topics, size_t n, int partitions,
                        char *err, size_t errlen);

#endif
