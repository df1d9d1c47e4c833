/* upstream_metrics.h - Prometheus metrics of the calls a program makes to
 * the REST core through lib/http_client: counts by method and outcome,
 * latency by method, and the circuit breaker's state. Shared by the GraphQL
 * gateway and the sync daemon so that dashboards and alerts read the same
 * series from both. */
#ifndef UPSTREAM_METRICS_H
#define UPSTREAM_METRICS_H

#include "http_client.h"
#include "metrics.h"

typedef struct upstream_metrics upstream_metrics_t;

/* Registers in reg:
 *   upstream_requests_total{method,outcome}   outcome: the HTTP status, or
 *       connect_error, timeout, too_large, breaker_open, transport_error, error
 *   upstream_request_duration_seconds{method} every attempt, retries included
 *   upstream_breaker_state                    0 closed, 1 open, 2 half-open
 * Returns NULL when memory ran out. Free with upstream_metrics_free after
 * the client that reports to it. */
upstream_metrics_t *upstream_metrics_new(metrics_registry_t *reg);
void upstream_metrics_free(upstream_metrics_t *um);

/* Fills the observer fields of a client's configuration. */
void upstream_metrics_attach(upstream_metrics_t *um, http_client_config_t *cfg);
/* The client whose breaker the gauge shows; set once it exists. */
void upstream_metrics_watch(upstream_metrics_t *um, http_client_t *client);

#endif
