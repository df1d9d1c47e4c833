/* upstream_metrics.c - metrics of calls to the REST core; see
 * upstream_metrics.h. */
#include "upstream_metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct upstream_metrics {
    metric_t *requests;
    metric_t *duration;
    metric_t *breaker;
    _Atomic(http_client_t *) client;
};

/* Bounded label values: methods the client accepts, else "other". */
static const char *method_label(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (m && strcmp(m, known[i]) == 0)
            return known[i];
    return "other";
}

static const char *outcome_label(int status, int err, char buf[8])
{
    switch (err) {
    case 0:
        if (status < 100 || status > 599)
            return "error";
        snprintf(buf, 8, "%d", status);
        return buf;
    case HTTP_CLIENT_ECONNECT: return "connect_error";
    case HTTP_CLIENT_ETIMEOUT: return "timeout";
    case HTTP_CLIENT_ETOOLARGE: return "too_large";
    case HTTP_CLIENT_EBREAKER: return "breaker_open";
    case HTTP_CLIENT_ETRANSPORT: return "transport_error";
    default: return "error";
    }
}

static void observe(void *user_data, const char *method, int status, double seconds, int err)
{
    upstream_metrics_t *um = user_data;
    char buf[8];
    const char *m = method_label(method);
    const char *labels[] = {m, outcome_label(status, err, buf)};
    metric_inc(um->requests, labels, 1);
    if (err != HTTP_CLIENT_EBREAKER) /* refused calls took no time */
        metric_observe(um->duration, &m, seconds);
}

static void collect(void *user_data)
{
    upstream_metrics_t *um = user_data;
    http_client_t *c = atomic_load(&um->client);
    metric_set(um->breaker, NULL, c ? http_client_breaker_state(c) : 0);
}

upstream_metrics_t *upstream_metrics_new(metrics_registry_t *reg)
{
    static const char *const req_labels[] = {"method", "outcome"};
    static const char *const dur_labels[] = {"method"};
    upstream_metrics_t *um = calloc(1, sizeof *um);
    if (!um)
        return NULL;
    um->requests = metrics_counter(reg, "upstream_requests_total",
                                   "Calls to the REST core (every attempt), by method and "
                                   "outcome (HTTP status or error).",
                                   2, req_labels);
    um->duration = metrics_histogram(reg, "upstream_request_duration_seconds",
                                     "Time of each attempt to call the REST core, by method.", 1,
                                     dur_labels, metrics_latency_buckets,
                                     metrics_latency_buckets_len);
    um->breaker = metrics_gauge(reg, "upstream_breaker_state",
                                "Circuit breaker of the REST core: 0 closed, 1 open, 2 half-open.",
                                0, NULL);
    if (!um->requests || !um->duration || !um->breaker || metrics_on_collect(reg, collect, um) < 0) {
        free(um);
        return NULL;
    }
    return um;
}

void upstream_metrics_free(upstream_metrics_t *um)
{
    free(um);
}

void upstream_metrics_attach(upstream_metrics_t *um, http_client_config_t *cfg)
{
    cfg->observer = observe;
    cfg->observer_data = um;
}

void upstream_metrics_watch(upstream_metrics_t *um, http_client_t *client)
{
    atomic_store(&um->client, client);
}
