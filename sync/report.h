/* report.h - how the sync daemon shows up in Prometheus: a continuous run
 * (--follow) serves /metrics and /health on METRICS_HOST:METRICS_PORT to be
 * scraped, behind the metrics token when one is set (lib/ops.h); a
 * scheduled run (--once) is over before any scrape, so it pushes its
 * metrics to a Pushgateway (PUSHGATEWAY_URL) or writes them for node
 * exporter's textfile collector (--textfile), or both. */
#ifndef SYNC_REPORT_H
#define SYNC_REPORT_H

#include "http_client.h"
#include "http_server.h"
#include "metrics.h"
#include "ops.h"

typedef struct report_server report_server_t;

/* Serves GET /metrics (reg) and GET /health on host:port; /health answers
 * 503 while the REST core's breaker (client, may be NULL) is open. With a
 * token (NULL or empty: open), both answer 401 to a request without it.
 * Borrows reg, client and token until report_stop. Returns 0 or -1 with
 * err. */
int report_serve(const char *host, int port, metrics_registry_t *reg, http_client_t *client,
                 const ops_token_t *token, report_server_t **out, char *err, size_t errlen);
void report_stop(report_server_t *rs);

/* PUTs the registry's exposition to URL/metrics/job/articles-sync (the
 * Pushgateway replaces the group's metrics). Returns 0 or -1 with err. */
int report_push(const char *url, metrics_registry_t *reg, char *err, size_t errlen);

/* Writes the exposition to path atomically (a temporary file renamed).
 * Returns 0 or -1 with err. */
int report_textfile(const char *path, metrics_registry_t *reg, char *err, size_t errlen);

#endif
