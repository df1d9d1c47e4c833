/* kafka.c - producer, dead-letter sender and group consumer on librdkafka for
 * the sync daemon; see kafka.h for the guarantees and how they are kept. */
#include "kafka.h"

#include <cJSON.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

_Static_assert(sizeof(uintptr_t) >= sizeof(uint64_t), "tokens travel as message opaques");

#define DEFAULT_CLIENT_ID "articles-sync"
#define DEFAULT_STATS_MS 1000
#define FREE_FLUSH_MS 10000
#define TRACEPARENT "traceparent"

/* ---- shared: configuration and logging ---------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* librdkafka's syslog levels onto ours. Called from librdkafka's threads;
 * log_msg writes each line with one write(2). */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    log_level_t l = level <= 3   ? LOG_ERROR
                    : level == 4 ? LOG_WARN
                    : level <= 6 ? LOG_INFO
                                 : LOG_DEBUG;
    if (log_enabled(l))
        log_msg(l, "kafka %s: %s: %s", rd_kafka_name(rk), fac, buf);
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                    size_t errlen)
{
    char why[512];
    if (rd_kafka_conf_set(conf, key, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
        set_err(err, errlen, "kafka property %s: %s", key, why);
        return KAFKA_EINVAL;
    }
    return 0;
}

/* Applies cfg->props ("key=value") after our defaults, refusing the keys in
 * forbidden (NULL-terminated) that our guarantees rest on. */
static int conf_props(rd_kafka_conf_t *conf, const kafka_config_t *cfg,
                      const char *const *forbidden, char *err, size_t errlen)
{
    if (cfg->nprops > KAFKA_MAX_PROPS) {
        set_err(err, errlen, "%zu kafka properties, at most %d", cfg->nprops, KAFKA_MAX_PROPS);
        return KAFKA_EINVAL;
    }
    for (size_t i = 0; i < cfg->nprops; i++) {
        const char *kv = cfg->props[i];
        const char *eq = kv ? strchr(kv, '=') : NULL;
        if (!eq || eq == kv) {
            set_err(err, errlen, "kafka property '%s' is not key=value", kv ? kv : "(null)");
            return KAFKA_EINVAL;
        }
        char *key = strndup(kv, (size_t)(eq - kv));
        if (!key) {
            set_err(err, errlen, "out of memory");
            return KAFKA_ENOMEM;
        }
        int rc = 0;
        for (size_t f = 0; forbidden[f] && rc == 0; f++) {
            if (strcmp(key, forbidden[f]) == 0) {
                set_err(err, errlen,
                        "kafka property %s cannot be changed: the sync daemon's "
                        "guarantees rest on it",
                        key);
                rc = KAFKA_EINVAL;
            }
        }
        if (rc == 0)
            rc = conf_set(conf, key, eq + 1, err, errlen);
        free(key);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The settings both kinds of handle share. */
static int conf_common(rd_kafka_conf_t *conf, const kafka_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg->brokers || !*cfg->brokers || !cfg->topic || !*cfg->topic) {
        set_err(err, errlen, "kafka: brokers and topic are required");
        return KAFKA_EINVAL;
    }
    int rc = conf_set(conf, "bootstrap.servers", cfg->brokers, err, errlen);
    if (rc == 0)
        rc = conf_set(conf, "client.id", cfg->client_id ? cfg->client_id : DEFAULT_CLIENT_ID, err,
                      errlen);
    /* A broker closing an idle connection is routine, not an error line. */
    if (rc == 0)
        rc = conf_set(conf, "log.connection.close", "false", err, errlen);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    return rc;
}

static bool has_feature(const char *name)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char features[512];
    size_t len = sizeof features;
    bool found = false;
    if (rd_kafka_conf_get(conf, "builtin.features", features, &len) == RD_KAFKA_CONF_OK) {
        for (char *save = NULL, *tok = strtok_r(features, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save))
            found = found || strcmp(tok, name) == 0;
    }
    rd_kafka_conf_destroy(conf);
    return found;
}

static int map_err(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return 0;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        return KAFKA_ETOOLARGE;
    case RD_KAFKA_RESP_ERR__FATAL:
        return KAFKA_EFATAL;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        return KAFKA_EINVAL;
    default:
        return KAFKA_EKAFKA;
    }
}

/* ---- producer: the ring of tokens in flight ------------------------------------ */

/* One token and how many of its messages still wait for a report. A
 * message that failed is never counted down, so the ring stops there. */
typedef struct track {
    uint64_t token;
    uint32_t pending;
} track_t;

/* What a dead-letter send waits for; lives on kafka_dlq_send's stack. */
typedef struct dlq_wait {
    atomic_int done;
    rd_kafka_resp_err_t err;
    char errstr[200];
} dlq_wait_t;

struct kafka_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt; /* the main topic; any other topic is a dead-letter one */
    char *topic;
    pthread_mutex_t mu; /* guards everything below (reports may come on any poller) */
    track_t *ring;      /* cap is a power of two; entries head..head+count-1 */
    size_t cap, head, count;
    uint64_t last_token, confirmed;
    uint64_t produced, delivered, failed;
    int64_t *ends;      /* by partition: the offset after the last delivered */
    size_t nends;
    bool ends_lost;     /* out of memory recording one */
    int error;
    char error_text[200];
};

static track_t *ring_at(kafka_producer_t *p, size_t i)
{
    return &p->ring[(p->head + i) & (p->cap - 1)];
}

/* Appends one message of token; the caller holds mu. */
static int ring_push(kafka_producer_t *p, uint64_t token)
{
    if (p->count > 0) {
        track_t *last = ring_at(p, p->count - 1);
        if (last->token == token && last->pending < UINT32_MAX) {
            last->pending++;
            return 0;
        }
    }
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        track_t *ring = malloc(cap * sizeof *ring);
        if (!ring)
            return KAFKA_ENOMEM;
        for (size_t i = 0; i < p->count; i++)
            ring[i] = *ring_at(p, i);
        free(p->ring);
        p->ring = ring;
        p->cap = cap;
        p->head = 0;
    }
    *ring_at(p, p->count++) = (track_t){token, 1};
    return 0;
}

/* Takes back the last ring_push (the message was not enqueued). */
static void ring_unpush(kafka_producer_t *p)
{
    track_t *last = ring_at(p, p->count - 1);
    if (--last->pending == 0)
        p->count--;
}

/* The first entry of token with messages pending (equal tokens can span
 * entries when one overflowed its counter). */
static track_t *ring_find(kafka_producer_t *p, uint64_t token)
{
    size_t lo = 0, hi = p->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ring_at(p, mid)->token < token)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < p->count && ring_at(p, lo)->token == token; lo++) {
        if (ring_at(p, lo)->pending > 0)
            return ring_at(p, lo);
    }
    return NULL;
}

/* Moves the confirmed token over the delivered prefix of the ring. */
static void ring_advance(kafka_producer_t *p)
{
    while (p->count > 0 && ring_at(p, 0)->pending == 0) {
        p->confirmed = ring_at(p, 0)->token;
        p->head = (p->head + 1) & (p->cap - 1);
        p->count--;
    }
}

/* Records the first failure for good; the caller holds mu. */
static void producer_fail(kafka_producer_t *p, int code, const char *text)
{
    if (p->error)
        return;
    p->error = code;
    snprintf(p->error_text, sizeof p->error_text, "%.199s", text);
}

/* Records where a partition ends after a delivered message; the caller
 * holds mu. */
static void note_end(kafka_producer_t *p, int32_t partition, int64_t offset)
{
    if (partition < 0 || offset < 0)
        return;
    if ((size_t)partition >= p->nends) {
        size_t n = (size_t)partition + 1;
        int64_t *ends = realloc(p->ends, n * sizeof *ends);
        if (!ends) {
            p->ends_lost = true;
            return;
        }
        for (size_t i = p->nends; i < n; i++)
            ends[i] = -1;
        p->ends = ends;
        p->nends = n;
    }
    if (offset + 1 > p->ends[partition])
        p->ends[partition] = offset + 1;
}

int kafka_producer_ends(kafka_producer_t *p, kafka_end_t **ends)
{
    *ends = NULL;
    pthread_mutex_lock(&p->mu);
    size_t n = 0;
    kafka_end_t *out = p->nends ? malloc(p->nends * sizeof *out) : NULL;
    for (size_t i = 0; out && i < p->nends; i++)
        if (p->ends[i] >= 0)
            out[n++] = (kafka_end_t){(int32_t)i, p->ends[i]};
    bool failed = (p->nends && !out) || p->ends_lost;
    pthread_mutex_unlock(&p->mu);
    if (failed) {
        free(out);
        return KAFKA_ENOMEM;
    }
    *ends = out;
    return (int)n;
}

/* Delivery reports, on whichever thread polls. */
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    kafka_producer_t *p = opaque;
    if (m->rkt != p->rkt) {
        dlq_wait_t *w = m->_private;
        w->err = m->err;
        if (m->err)
            snprintf(w->errstr, sizeof w->errstr, "%s", rd_kafka_err2str(m->err));
        atomic_store(&w->done, 1);
        return;
    }
    uint64_t token = (uint64_t)(uintptr_t)m->_private;
    pthread_mutex_lock(&p->mu);
    if (m->err) {
        p->failed++;
        char text[256];
        if (m->err == RD_KAFKA_RESP_ERR__FATAL)
            rd_kafka_fatal_error(rk, text, sizeof text);
        else
            snprintf(text, sizeof text, "%s", rd_kafka_err2str(m->err));
        if (!p->error)
            log_error("kafka producer: message of token %llu to %s [%d] failed for good: %s",
                      (unsigned long long)token, p->topic, (int)m->partition, text);
        producer_fail(p, m->err == RD_KAFKA_RESP_ERR__FATAL ? KAFKA_EFATAL : KAFKA_EDELIVERY, text);
    } else {
        p->delivered++;
        note_end(p, m->partition, m->offset);
        track_t *t = ring_find(p, token);
        if (t) {
            t->pending--;
            ring_advance(p);
        } else {
            log_error("kafka producer: delivery report for unknown token %llu",
                      (unsigned long long)token);
        }
    }
    pthread_mutex_unlock(&p->mu);
}

static void producer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kafka_producer_t *p = opaque;
    if (err != RD_KAFKA_RESP_ERR__FATAL) {
        log_warn("kafka producer: %s", reason);
        return;
    }
    char text[256];
    rd_kafka_fatal_error(rk, text, sizeof text);
    log_error("kafka producer: fatal error: %s", text);
    pthread_mutex_lock(&p->mu);
    producer_fail(p, KAFKA_EFATAL, text);
    pthread_mutex_unlock(&p->mu);
}

/* Neighbouring article ids share a partition, KAFKA_ID_BLOCK of them at a
 * time: a batch the consumer takes from one partition is then a run of
 * neighbouring ids, which the destination writes into a few B-tree pages
 * instead of one page per row (a hash spreads a run over every partition).
 * The partition depends on the id alone, so each article's changes keep one
 * partition and their order, as with a hash. Keys are decimal ids
 * (event_key); anything else falls back to librdkafka's hash. */
static int32_t id_block_partitioner(const rd_kafka_topic_t *rkt, const void *key, size_t keylen,
                                    int32_t partition_cnt, void *rkt_opaque, void *msg_opaque)
{
    const unsigned char *k = key;
    uint64_t id = 0;
    bool decimal = keylen > 0 && keylen <= 18;
    for (size_t i = 0; decimal && i < keylen; i++) {
        decimal = k[i] >= '0' && k[i] <= '9';
        id = id * 10 + (uint64_t)(k[i] - '0');
    }
    if (!decimal || partition_cnt <= 0)
        return rd_kafka_msg_partitioner_murmur2(rkt, key, keylen, partition_cnt, rkt_opaque,
                                                msg_opaque);
    return (int32_t)((id / KAFKA_ID_BLOCK) % (uint64_t)partition_cnt);
}

static int producer_conf(rd_kafka_conf_t *conf, const kafka_config_t *cfg, char *err, size_t errlen)
{
    static const char *const forbidden[] = {"enable.idempotence", "acks", "request.required.acks",
                                            NULL};
    static const char *const defaults[][2] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        {"batch.size", "1048576"},
        {"queue.buffering.max.messages", "100000"},
        {"queue.buffering.max.kbytes", "32768"},
    };
    /* First: the default topic configuration it installs replaces any
     * other, and a "partitioner" among the caller's props still wins. */
    rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
    if (!tconf) {
        set_err(err, errlen, "out of memory");
        return KAFKA_ENOMEM;
    }
    rd_kafka_topic_conf_set_partitioner_cb(tconf, id_block_partitioner);
    rd_kafka_conf_set_default_topic_conf(conf, tconf);
    int rc = conf_common(conf, cfg, err, errlen);
    for (size_t i = 0; rc == 0 && i < sizeof defaults / sizeof defaults[0]; i++)
        rc = conf_set(conf, defaults[i][0], defaults[i][1], err, errlen);
    if (rc == 0 && has_feature("lz4"))
        rc = conf_set(conf, "compression.codec", "lz4", err, errlen);
    if (rc == 0)
        rc = conf_props(conf, cfg, forbidden, err, errlen);
    return rc;
}

int kafka_producer_new(const kafka_config_t *cfg, kafka_producer_t **out, char *err, size_t errlen)
{
    *out = NULL;
    kafka_producer_t *p = calloc(1, sizeof *p);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512];
    int rc = KAFKA_ENOMEM;
    if (!p || !conf || pthread_mutex_init(&p->mu, NULL) != 0) {
        set_err(err, errlen, "out of memory");
        free(p);
        p = NULL;
        goto fail;
    }
    rc = producer_conf(conf, cfg, err, errlen);
    if (rc != 0)
        goto fail;
    p->topic = strdup(cfg->topic);
    if (!p->topic) {
        rc = KAFKA_ENOMEM;
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, producer_error_cb);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!p->rk) {
        rc = KAFKA_EKAFKA;
        set_err(err, errlen, "kafka producer: %s", why);
        goto fail;
    }
    conf = NULL; /* the handle owns it now */
    p->rkt = rd_kafka_topic_new(p->rk, cfg->topic, NULL);
    if (!p->rkt) {
        rc = KAFKA_EKAFKA;
        set_err(err, errlen, "kafka producer: topic %s: %s", cfg->topic,
                rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    log_info("kafka producer %s: topic %s, brokers %s", rd_kafka_name(p->rk), p->topic,
             cfg->brokers);
    *out = p;
    return 0;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (p) {
        if (p->rk)
            rd_kafka_destroy(p->rk);
        free(p->topic);
        pthread_mutex_destroy(&p->mu);
        free(p);
    }
    return rc;
}

static rd_kafka_resp_err_t enqueue(kafka_producer_t *p, const void *key, size_t keylen,
                                   const void *value, size_t valuelen, const char *traceparent,
                                   uint64_t token)
{
    void *opaque = (void *)(uintptr_t)token;
    if (traceparent)
        return rd_kafka_producev(
            p->rk, RD_KAFKA_V_RKT(p->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE((void *)value, valuelen),
            RD_KAFKA_V_HEADER(TRACEPARENT, traceparent, -1), RD_KAFKA_V_OPAQUE(opaque),
            RD_KAFKA_V_END);
    return rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(p->rkt),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, keylen),
                             RD_KAFKA_V_VALUE((void *)value, valuelen), RD_KAFKA_V_OPAQUE(opaque),
                             RD_KAFKA_V_END);
}

int kafka_produce(kafka_producer_t *p, const void *key, size_t keylen, const void *value,
                  size_t valuelen, const char *traceparent, uint64_t token)
{
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    if (token == 0 || token > KAFKA_MAX_TOKEN || token < p->last_token) {
        log_error("kafka producer: token %llu out of order (last %llu)", (unsigned long long)token,
                  (unsigned long long)p->last_token);
        rc = KAFKA_EINVAL;
    } else if (ring_push(p, token) != 0) {
        rc = KAFKA_ENOMEM;
    } else {
        p->last_token = token;
        p->produced++;
    }
    pthread_mutex_unlock(&p->mu);
    if (rc != 0)
        return rc;

    rd_kafka_resp_err_t e;
    while ((e = enqueue(p, key, keylen, value, valuelen, traceparent, token)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        /* Room comes back as delivery reports are served. */
        rd_kafka_poll(p->rk, 100);
    }
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    pthread_mutex_lock(&p->mu);
    ring_unpush(p);
    p->produced--;
    ring_advance(p);
    pthread_mutex_unlock(&p->mu);
    log_error("kafka producer: cannot enqueue token %llu to %s: %s", (unsigned long long)token,
              p->topic, rd_kafka_err2str(e));
    return map_err(e);
}

int kafka_producer_poll(kafka_producer_t *p, int timeout_ms)
{
    return rd_kafka_poll(p->rk, timeout_ms);
}

int kafka_producer_confirmed(kafka_producer_t *p, uint64_t *token)
{
    pthread_mutex_lock(&p->mu);
    *token = p->confirmed;
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int kafka_producer_failed(kafka_producer_t *p, char *err, size_t errlen)
{
    pthread_mutex_lock(&p->mu);
    int rc = p->error;
    if (rc)
        set_err(err, errlen, "%s", p->error_text);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void summarize(kafka_producer_t *p, kafka_delivery_summary_t *s)
{
    pthread_mutex_lock(&p->mu);
    s->produced = p->produced;
    s->delivered = p->delivered;
    s->failed = p->failed;
    s->in_flight = p->produced - p->delivered - p->failed;
    s->confirmed = p->confirmed;
    s->first_error = p->error;
    snprintf(s->first_error_text, sizeof s->first_error_text, "%s", p->error_text);
    pthread_mutex_unlock(&p->mu);
}

int kafka_producer_flush(kafka_producer_t *p, int timeout_ms, kafka_delivery_summary_t *out)
{
    kafka_delivery_summary_t s;
    /* rd_kafka_flush serves delivery reports and sends at once, linger or not. */
    rd_kafka_flush(p->rk, timeout_ms < 0 ? 0 : timeout_ms);
    summarize(p, &s);
    if (out)
        *out = s;
    if (s.first_error)
        return s.first_error;
    return s.in_flight ? KAFKA_ETIMEDOUT : 0;
}

void kafka_producer_free(kafka_producer_t *p)
{
    if (!p)
        return;
    kafka_delivery_summary_t s;
    if (kafka_producer_flush(p, FREE_FLUSH_MS, &s) == KAFKA_ETIMEDOUT)
        log_warn("kafka producer: %llu messages undelivered after %d ms; dropped",
                 (unsigned long long)s.in_flight, FREE_FLUSH_MS);
    /* Whatever is left fails now with a report rather than holding destroy. */
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(p->rk, 0);
    rd_kafka_topic_destroy(p->rkt);
    rd_kafka_destroy(p->rk);
    pthread_mutex_destroy(&p->mu);
    free(p->ring);
    free(p->ends);
    free(p->topic);
    free(p);
}

/* ---- dead letters ---------------------------------------------------------------- */

static int add_header(rd_kafka_headers_t *h, const char *name, const char *value)
{
    if (!value)
        return 0;
    return rd_kafka_header_add(h, name, -1, value, -1) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

int kafka_dlq_send(kafka_producer_t *p, const char *dlq_topic, const void *key, size_t keylen,
                   const void *value, size_t valuelen, const kafka_dlq_info_t *info, char *err,
                   size_t errlen)
{
    if (!dlq_topic || !*dlq_topic || strcmp(dlq_topic, p->topic) == 0 || !info || !info->reason) {
        set_err(err, errlen, "kafka dlq: a topic other than %s and a reason are required",
                p->topic);
        return KAFKA_EINVAL;
    }
    char part[24], off[24];
    snprintf(part, sizeof part, "%d", (int)info->source_partition);
    snprintf(off, sizeof off, "%lld", (long long)info->source_offset);
    rd_kafka_headers_t *h = rd_kafka_headers_new(6);
    if (!h || add_header(h, "dlq.reason", info->reason) ||
        add_header(h, "dlq.detail", info->detail) ||
        add_header(h, "dlq.source.topic", info->source_topic) ||
        add_header(h, "dlq.source.partition", part) || add_header(h, "dlq.source.offset", off) ||
        add_header(h, TRACEPARENT, info->traceparent)) {
        if (h)
            rd_kafka_headers_destroy(h);
        set_err(err, errlen, "kafka dlq: out of memory");
        return KAFKA_ENOMEM;
    }
    dlq_wait_t w = {.err = RD_KAFKA_RESP_ERR_NO_ERROR};
    atomic_init(&w.done, 0);
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(
                p->rk, RD_KAFKA_V_TOPIC(dlq_topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_VALUE((void *)value, valuelen),
                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(&w), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(p->rk, 100);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(h); /* only a successful producev takes them */
        set_err(err, errlen, "kafka dlq: cannot enqueue to %s: %s", dlq_topic, rd_kafka_err2str(e));
        return map_err(e);
    }
    /* librdkafka reports every message by message.timeout.ms at the latest. */
    while (!atomic_load(&w.done))
        rd_kafka_poll(p->rk, 50);
    if (w.err) {
        set_err(err, errlen, "kafka dlq: %s: %s", dlq_topic, w.errstr);
        log_error("kafka dlq: message for %s [%d] at %lld not delivered to %s: %s",
                  info->source_topic ? info->source_topic : "?", (int)info->source_partition,
                  (long long)info->source_offset, dlq_topic, w.errstr);
        return w.err == RD_KAFKA_RESP_ERR__FATAL ? KAFKA_EFATAL : KAFKA_EDELIVERY;
    }
    log_info("kafka dlq: %s [%d] at %lld sent to %s: %s",
             info->source_topic ? info->source_topic : "?", (int)info->source_partition,
             (long long)info->source_offset, dlq_topic, info->reason);
    return 0;
}

int kafka_dlq_send_message(kafka_producer_t *p, const char *dlq_topic, const kafka_message_t *m,
                           const char *reason, const char *detail, char *err, size_t errlen)
{
    kafka_dlq_info_t info = {
        .reason = reason,
        .detail = detail,
        .source_topic = m->topic,
        .source_partition = m->partition,
        .source_offset = m->offset,
        .traceparent = m->traceparent,
    };
    return kafka_dlq_send(p, dlq_topic, m->key, m->keylen, m->value, m->valuelen, &info, err,
                          errlen);
}

/* ---- consumer ---------------------------------------------------------------------- */

struct kafka_consumer {
    rd_kafka_t *rk;
    char *topic;
    kafka_revoke_fn on_revoke;
    void *on_revoke_arg;
    atomic_bool paused;
    pthread_mutex_t mu; /* guards the assignment below (rebalances vs. metrics) */
    kafka_lag_t *parts; /* assigned partitions of topic, by partition, with their lag */
    size_t nparts, capparts;
    /* Revokes served inside the running kafka_consume_batch (its thread
     * only): the partitions, so that what it polled from them before is
     * dropped. */
    uint64_t revokes;
    int32_t *revoked;
    size_t nrevoked, caprevoked;
};

static int part_cmp(const void *a, const void *b)
{
    int32_t x = ((const kafka_lag_t *)a)->partition, y = ((const kafka_lag_t *)b)->partition;
    return (x > y) - (x < y);
}

static kafka_lag_t *part_find(kafka_consumer_t *c, int32_t partition)
{
    kafka_lag_t key = {partition, 0};
    if (c->nparts == 0)
        return NULL;
    return bsearch(&key, c->parts, c->nparts, sizeof key, part_cmp);
}

/* Adds (add) or removes the partitions of our topic in list. */
static void parts_update(kafka_consumer_t *c, const rd_kafka_topic_partition_list_t *list, bool add)
{
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < list->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &list->elems[i];
        if (strcmp(tp->topic, c->topic) != 0)
            continue;
        kafka_lag_t *found = part_find(c, tp->partition);
        if (add && !found) {
            if (c->nparts == c->capparts) {
                size_t cap = c->capparts ? c->capparts * 2 : 16;
                kafka_lag_t *n = realloc(c->parts, cap * sizeof *n);
                if (!n) {
                    log_error("kafka consumer: out of memory tracking partitions");
                    break;
                }
                c->parts = n;
                c->capparts = cap;
            }
            c->parts[c->nparts++] = (kafka_lag_t){tp->partition, -1};
            qsort(c->parts, c->nparts, sizeof *c->parts, part_cmp);
        } else if (!add && found) {
            size_t at = (size_t)(found - c->parts);
            memmove(found, found + 1, (c->nparts - at - 1) * sizeof *found);
            c->nparts--;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static void on_assign(kafka_consumer_t *c, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                      bool coop)
{
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (coop)
        error = rd_kafka_incremental_assign(rk, parts);
    else
        e = rd_kafka_assign(rk, parts);
    if (error || e) {
        log_error("kafka consumer: assign failed: %s",
                  error ? rd_kafka_error_string(error) : rd_kafka_err2str(e));
        if (error)
            rd_kafka_error_destroy(error);
        return;
    }
    parts_update(c, parts, true);
    /* The pause belongs to the consumer: what arrives while paused waits. */
    if (atomic_load(&c->paused) && parts->cnt > 0)
        rd_kafka_pause_partitions(rk, parts);
    log_info("kafka consumer %s: assigned %d partitions of %s%s", rd_kafka_name(rk), parts->cnt,
             c->topic, atomic_load(&c->paused) ? " (paused)" : "");
}

static void note_revoked(kafka_consumer_t *c, const rd_kafka_topic_partition_list_t *parts)
{
    c->revokes++;
    if (c->nrevoked == SIZE_MAX)
        return;
    size_t need = c->nrevoked + (size_t)parts->cnt;
    if (need > c->caprevoked) {
        int32_t *r = realloc(c->revoked, need * 2 * sizeof *r);
        if (!r) {
            /* Without the list, every message polled so far is dropped:
             * re-read, never lost. */
            c->nrevoked = SIZE_MAX;
            return;
        }
        c->revoked = r, c->caprevoked = need * 2;
    }
    for (int i = 0; i < parts->cnt; i++)
        if (strcmp(parts->elems[i].topic, c->topic) == 0)
            c->revoked[c->nrevoked++] = parts->elems[i].partition;
}

static bool was_revoked(const kafka_consumer_t *c, int32_t partition)
{
    if (c->nrevoked == SIZE_MAX)
        return true;
    for (size_t i = 0; i < c->nrevoked; i++)
        if (c->revoked[i] == partition)
            return true;
    return false;
}

/* Drops from out what was polled from partitions revoked since: their next
 * owner reads it again from the committed offset, and applying it here
 * too could overwrite what that owner applied after. */
static void drop_revoked(kafka_consumer_t *c, kafka_message_t *out, size_t *got)
{
    size_t kept = 0;
    for (size_t i = 0; i < *got; i++) {
        if (was_revoked(c, out[i].partition)) {
            free(out[i].traceparent);
            rd_kafka_message_destroy(out[i].raw);
        } else {
            out[kept++] = out[i];
        }
    }
    *got = kept;
}

static void on_revoke(kafka_consumer_t *c, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts,
                      bool coop)
{
    bool lost = rd_kafka_assignment_lost(rk);
    note_revoked(c, parts);
    if (c->on_revoke) {
        int32_t *ids = malloc(((size_t)parts->cnt + 1) * sizeof *ids);
        size_t n = 0;
        for (int i = 0; ids && i < parts->cnt; i++)
            ids[n++] = parts->elems[i].partition;
        if (!ids)
            log_error("kafka consumer: out of memory listing revoked partitions");
        c->on_revoke(c, ids, n, lost, c->on_revoke_arg);
        free(ids);
    }
    /* What was stored goes to the broker before the partitions go: the next
     * owner starts right after it. A lost assignment is no longer ours to
     * commit. */
    if (!lost)
        kafka_commit(c);
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (coop)
        error = rd_kafka_incremental_unassign(rk, parts);
    else
        e = rd_kafka_assign(rk, NULL);
    if (error || e) {
        log_error("kafka consumer: unassign failed: %s",
                  error ? rd_kafka_error_string(error) : rd_kafka_err2str(e));
        if (error)
            rd_kafka_error_destroy(error);
    }
    parts_update(c, parts, false);
    log_info("kafka consumer %s: %s %d partitions of %s", rd_kafka_name(rk),
             lost ? "lost" : "revoked", parts->cnt, c->topic);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kafka_consumer_t *c = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(c, rk, parts, coop);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        on_revoke(c, rk, parts, coop);
    } else {
        log_error("kafka consumer: rebalance failed: %s", rd_kafka_err2str(err));
        on_revoke(c, rk, parts, coop);
    }
}

static int64_t json_i64(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

/* Statistics, on the consuming thread: librdkafka's JSON is trusted. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    kafka_consumer_t *c = opaque;
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(root, "topics");
    const cJSON *topic = cJSON_GetObjectItemCaseSensitive(topics, c->topic);
    const cJSON *partitions = cJSON_GetObjectItemCaseSensitive(topic, "partitions");
    const cJSON *part;
    pthread_mutex_lock(&c->mu);
    cJSON_ArrayForEach(part, partitions)
    {
        int64_t id = json_i64(part, "partition");
        kafka_lag_t *slot = id >= 0 && id <= INT32_MAX ? part_find(c, (int32_t)id) : NULL;
        if (!slot)
            continue;
        int64_t lag = json_i64(part, "consumer_lag");
        int64_t committed = json_i64(part, "committed_offset");
        int64_t hi = json_i64(part, "hi_offset"), lo = json_i64(part, "lo_offset");
        /* Never committed: with auto.offset.reset=earliest all of it is to do. */
        if (lag < 0 && committed < 0 && hi >= 0 && lo >= 0 && hi >= lo)
            lag = hi - lo;
        slot->lag = lag < 0 ? -1 : lag;
    }
    pthread_mutex_unlock(&c->mu);
    cJSON_Delete(root);
    return 0; /* librdkafka frees json */
}

static void consumer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char text[256];
        rd_kafka_fatal_error(rk, text, sizeof text);
        log_error("kafka consumer: fatal error: %s", text);
    } else {
        log_warn("kafka consumer: %s", reason);
    }
}

static int consumer_conf(rd_kafka_conf_t *conf, const kafka_config_t *cfg, char *err, size_t errlen)
{
    static const char *const forbidden[] = {"enable.auto.commit", "enable.auto.offset.store", NULL};
    if (!cfg->group || !*cfg->group) {
        set_err(err, errlen, "kafka consumer: a group is required");
        return KAFKA_EINVAL;
    }
    char stats[24];
    snprintf(stats, sizeof stats, "%d",
             cfg->stats_interval_ms == 0  ? DEFAULT_STATS_MS
             : cfg->stats_interval_ms < 0 ? 0
                                          : cfg->stats_interval_ms);
    const char *const defaults[][2] = {
        {"group.id", cfg->group},
        {"enable.auto.commit", "true"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"partition.assignment.strategy", "range,roundrobin"},
        {"statistics.interval.ms", stats},
    };
    int rc = conf_common(conf, cfg, err, errlen);
    for (size_t i = 0; rc == 0 && i < sizeof defaults / sizeof defaults[0]; i++)
        rc = conf_set(conf, defaults[i][0], defaults[i][1], err, errlen);
    if (rc == 0)
        rc = conf_props(conf, cfg, forbidden, err, errlen);
    return rc;
}

int kafka_consumer_new(const kafka_config_t *cfg, kafka_consumer_t **out, char *err, size_t errlen)
{
    *out = NULL;
    kafka_consumer_t *c = calloc(1, sizeof *c);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *sub = NULL;
    char why[512];
    int rc = KAFKA_ENOMEM;
    if (!c || !conf || pthread_mutex_init(&c->mu, NULL) != 0) {
        set_err(err, errlen, "out of memory");
        free(c);
        c = NULL;
        goto fail;
    }
    atomic_init(&c->paused, false);
    c->on_revoke = cfg->on_revoke;
    c->on_revoke_arg = cfg->on_revoke_arg;
    rc = consumer_conf(conf, cfg, err, errlen);
    if (rc != 0)
        goto fail;
    rc = KAFKA_ENOMEM;
    c->topic = strdup(cfg->topic);
    sub = rd_kafka_topic_partition_list_new(1);
    if (!c->topic || !sub) {
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    rd_kafka_topic_partition_list_add(sub, cfg->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_stats_cb(conf, stats_cb);
    rd_kafka_conf_set_error_cb(conf, consumer_error_cb);
    rc = KAFKA_EKAFKA;
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!c->rk) {
        set_err(err, errlen, "kafka consumer: %s", why);
        goto fail;
    }
    conf = NULL;
    /* Statistics and errors come with the messages, on the polling thread. */
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, sub);
    if (e) {
        set_err(err, errlen, "kafka consumer: subscribe to %s: %s", cfg->topic,
                rd_kafka_err2str(e));
        goto fail;
    }
    rd_kafka_topic_partition_list_destroy(sub);
    log_info("kafka consumer %s: group %s, topic %s, brokers %s", rd_kafka_name(c->rk), cfg->group,
             cfg->topic, cfg->brokers);
    *out = c;
    return 0;
fail:
    if (sub)
        rd_kafka_topic_partition_list_destroy(sub);
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (c) {
        if (c->rk)
            rd_kafka_destroy(c->rk);
        free(c->topic);
        pthread_mutex_destroy(&c->mu);
        free(c);
    }
    return rc;
}

/* Fills m from raw, which it then owns. */
static int message_fill(kafka_message_t *m, rd_kafka_message_t *raw)
{
    *m = (kafka_message_t){
        .topic = rd_kafka_topic_name(raw->rkt),
        .partition = raw->partition,
        .offset = raw->offset,
        .timestamp_ms = rd_kafka_message_timestamp(raw, NULL),
        .key = raw->key,
        .keylen = raw->key ? raw->key_len : 0,
        .value = raw->payload,
        .valuelen = raw->payload ? raw->len : 0,
        .raw = raw,
    };
    rd_kafka_headers_t *h;
    const void *v;
    size_t len;
    if (rd_kafka_message_headers(raw, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(h, TRACEPARENT, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR && v) {
        m->traceparent = strndup(v, len);
        if (!m->traceparent)
            return KAFKA_ENOMEM;
    }
    return 0;
}

/* How long a batch waits to fill once its first message is in. */
#define KAFKA_BATCH_LINGER_MS 20

int kafka_consume_batch(kafka_consumer_t *c, size_t max, int timeout_ms, kafka_message_t **msgs,
                        size_t *n)
{
    *msgs = NULL;
    *n = 0;
    if (max == 0 || max > KAFKA_MAX_BATCH || timeout_ms < 0)
        return KAFKA_EINVAL;
    kafka_message_t *out = NULL;
    size_t got = 0;
    int64_t deadline = now_ms() + timeout_ms;
    int rc = 0;
    uint64_t revokes = c->revokes;
    c->nrevoked = 0;
    while (got < max) {
        /* After the first message, wait a little for more: fetches arrive
         * in chunks, and a full batch is one request to the REST core
         * instead of several small ones. */
        int64_t left = deadline - now_ms();
        rd_kafka_message_t *raw = rd_kafka_consumer_poll(c->rk, left > 0 ? (int)left : 0);
        if (c->revokes != revokes) {
            drop_revoked(c, out, &got);
            revokes = c->revokes;
            c->nrevoked = 0;
        }
        if (!raw) {
            if (got > 0 || left <= 0)
                break;
            continue;
        }
        if (got == 0 && deadline > now_ms() + KAFKA_BATCH_LINGER_MS)
            deadline = now_ms() + KAFKA_BATCH_LINGER_MS;
        if (raw->err) {
            if (raw->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_warn("kafka consumer: %s", rd_kafka_message_errstr(raw));
            rd_kafka_message_destroy(raw);
            if (rd_kafka_fatal_error(c->rk, NULL, 0)) {
                rc = KAFKA_EFATAL;
                break;
            }
            continue;
        }
        if (!out && !(out = calloc(max, sizeof *out))) {
            rd_kafka_message_destroy(raw);
            rc = KAFKA_ENOMEM;
            break;
        }
        rc = message_fill(&out[got++], raw);
        if (rc != 0)
            break;
    }
    if (rc != 0) {
        /* Nothing returned was seen by the caller: it comes again after a
         * restart from the committed offset. */
        kafka_messages_free(out, got);
        return rc;
    }
    if (got == 0) {
        free(out);
        out = NULL;
    }
    *msgs = out;
    *n = got;
    return 0;
}

void kafka_messages_free(kafka_message_t *msgs, size_t n)
{
    if (!msgs)
        return;
    for (size_t i = 0; i < n; i++) {
        free(msgs[i].traceparent);
        if (msgs[i].raw)
            rd_kafka_message_destroy(msgs[i].raw);
    }
    free(msgs);
}

int kafka_message_header(const kafka_message_t *m, const char *name, const void **value,
                         size_t *len)
{
    rd_kafka_headers_t *h;
    if (!m->raw || rd_kafka_message_headers(m->raw, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, name, value, len) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    return 0;
}

int kafka_store_offsets(kafka_consumer_t *c, const kafka_message_t *msgs, size_t n)
{
    if (n == 0)
        return 0;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
    if (!list)
        return KAFKA_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(list, msgs[i].topic, msgs[i].partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(list, msgs[i].topic, msgs[i].partition);
        if (msgs[i].offset + 1 > tp->offset)
            tp->offset = msgs[i].offset + 1;
    }
    rd_kafka_resp_err_t e = rd_kafka_offsets_store(c->rk, list);
    int rc = 0;
    if (e == RD_KAFKA_RESP_ERR__INVALID_ARG) {
        log_error("kafka consumer: storing offsets: %s", rd_kafka_err2str(e));
        rc = KAFKA_EKAFKA;
    }
    for (int i = 0; rc == 0 && i < list->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &list->elems[i];
        if (tp->err == RD_KAFKA_RESP_ERR__STATE || tp->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
            log_debug("kafka consumer: %s [%d] no longer assigned; offset %lld not stored",
                      tp->topic, (int)tp->partition, (long long)tp->offset);
        else if (tp->err) {
            log_error("kafka consumer: storing offset %lld of %s [%d]: %s", (long long)tp->offset,
                      tp->topic, (int)tp->partition, rd_kafka_err2str(tp->err));
            rc = KAFKA_EKAFKA;
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

int kafka_commit(kafka_consumer_t *c)
{
    rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, NULL, 0);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return 0;
    log_error("kafka consumer: commit failed: %s", rd_kafka_err2str(e));
    return KAFKA_EKAFKA;
}

static int pause_resume(kafka_consumer_t *c, bool pause)
{
    atomic_store(&c->paused, pause);
    rd_kafka_topic_partition_list_t *a = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(c->rk, &a);
    if (!e && a->cnt > 0)
        e = pause ? rd_kafka_pause_partitions(c->rk, a) : rd_kafka_resume_partitions(c->rk, a);
    for (int i = 0; !e && i < a->cnt; i++)
        e = a->elems[i].err;
    if (e)
        log_error("kafka consumer: %s failed: %s", pause ? "pause" : "resume", rd_kafka_err2str(e));
    else
        log_info("kafka consumer %s: %s %d partitions", rd_kafka_name(c->rk),
                 pause ? "paused" : "resumed", a->cnt);
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
    return e ? KAFKA_EKAFKA : 0;
}

int kafka_pause(kafka_consumer_t *c)
{
    return pause_resume(c, true);
}

int kafka_resume(kafka_consumer_t *c)
{
    return pause_resume(c, false);
}

bool kafka_paused(const kafka_consumer_t *c)
{
    return atomic_load(&c->paused);
}

int kafka_consumer_lag(kafka_consumer_t *c, kafka_lag_t *out, size_t max, size_t *n)
{
    pthread_mutex_lock(&c->mu);
    size_t k = c->nparts < max ? c->nparts : max;
    if (k > 0)
        memcpy(out, c->parts, k * sizeof *out);
    *n = k;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static int64_t end_of(const kafka_end_t *ends, size_t n, int32_t partition)
{
    for (size_t i = 0; i < n; i++)
        if (ends[i].partition == partition)
            return ends[i].offset;
    return -1;
}

int kafka_consumer_at_end(kafka_consumer_t *c, const kafka_end_t *ends, size_t nends,
                          int timeout_ms, kafka_lag_t *out, size_t max, size_t *n)
{
    *n = 0;
    rd_kafka_topic_partition_list_t *a = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(c->rk, &a);
    int rc = e ? KAFKA_EKAFKA : a->cnt > 0;
    if (rc > 0 && (e = rd_kafka_committed(c->rk, a, timeout_ms)))
        rc = KAFKA_EKAFKA;
    for (int i = 0; rc >= 0 && a && i < a->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &a->elems[i];
        if ((e = tp->err)) {
            rc = KAFKA_EKAFKA;
            break;
        }
        /* The broker's answer to a ListOffsets would queue behind the
         * fetch it holds (up to fetch.wait.max.ms); the last fetch's
         * watermarks are as good once a fetch followed the deliveries. */
        int64_t lo = -1, hi = -1;
        rd_kafka_get_watermark_offsets(c->rk, tp->topic, tp->partition, &lo, &hi);
        int64_t delivered = end_of(ends, nends, tp->partition);
        /* Never committed: all that the log still holds is to do. */
        int64_t from = tp->offset >= 0 ? tp->offset : lo;
        int64_t lag = -1;
        if (hi >= 0 && from >= 0) {
            int64_t end = hi > delivered ? hi : delivered;
            lag = end > from ? end - from : 0;
        }
        if (lag != 0)
            rc = 0;
        if (*n < max)
            out[(*n)++] = (kafka_lag_t){tp->partition, lag};
    }
    if (e)
        log_warn("kafka consumer: cannot tell whether the partitions are consumed to their end: %s",
                 rd_kafka_err2str(e));
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
    return rc;
}

size_t kafka_consumer_assignment_count(kafka_consumer_t *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->nparts;
    pthread_mutex_unlock(&c->mu);
    return n;
}

int kafka_consumer_close(kafka_consumer_t *c)
{
    if (!c)
        return 0;
    int rc = kafka_commit(c);
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->rk);
    if (e) {
        log_error("kafka consumer: close: %s", rd_kafka_err2str(e));
        rc = KAFKA_EKAFKA;
    }
    rd_kafka_destroy(c->rk);
    pthread_mutex_destroy(&c->mu);
    free(c->parts);
    free(c->revoked);
    free(c->topic);
    free(c);
    return rc;
}

/* ---- topics ---------------------------------------------------------------- */

/* Waits for the admin result event of one request. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, int timeout_ms)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
    while (ev && rd_kafka_event_type(ev) != RD_KAFKA_EVENT_CREATETOPICS_RESULT) {
        rd_kafka_event_destroy(ev);
        ev = rd_kafka_queue_poll(q, timeout_ms);
    }
    return ev;
}

int kafka_ensure_topics(const char *brokers, const char *const *topics, size_t n, int partitions,
                        char *err, size_t errlen)
{
    kafka_config_t cfg = {.brokers = brokers, .topic = n ? topics[0] : NULL};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char kerr[256];
    if (n == 0 || n > 16 || partitions < 1 || conf_common(conf, &cfg, err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        if (n == 0 || n > 16 || partitions < 1)
            set_err(err, errlen, "kafka: bad topic list or partition count");
        return KAFKA_EINVAL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof kerr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        set_err(err, errlen, "kafka: %s", kerr);
        return KAFKA_EKAFKA;
    }
    rd_kafka_NewTopic_t *nt[16] = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!(nt[i] = rd_kafka_NewTopic_new(topics[i], partitions, -1, kerr, sizeof kerr))) {
            set_err(err, errlen, "kafka: topic %s: %s", topics[i], kerr);
            rc = KAFKA_EINVAL;
        }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (rc == 0) {
        rd_kafka_CreateTopics(rk, nt, n, NULL, q);
        rd_kafka_event_t *ev = admin_wait(q, 30000);
        const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr = res ? rd_kafka_CreateTopics_result_topics(res, &cnt)
                                                 : NULL;
        if (!ev) {
            set_err(err, errlen, "kafka: no answer to CreateTopics from %s", brokers);
            rc = KAFKA_ETIMEDOUT;
        } else if (rd_kafka_event_error(ev)) {
            set_err(err, errlen, "kafka: CreateTopics: %s", rd_kafka_event_error_string(ev));
            rc = KAFKA_EKAFKA;
        }
        for (size_t i = 0; rc == 0 && i < cnt; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
            if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                set_err(err, errlen, "kafka: cannot create topic %s: %s",
                        rd_kafka_topic_result_name(tr[i]), rd_kafka_err2str(e));
                rc = KAFKA_EKAFKA;
            }
        }
        if (ev)
            rd_kafka_event_destroy(ev);
    }
    for (size_t i = 0; i < n; i++)
        if (nt[i])
            rd_kafka_NewTopic_destroy(nt[i]);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}
