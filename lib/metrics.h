/* metrics.h - a small Prometheus metrics registry shared by every program.
 *
 * Families (counters, gauges, histograms) are registered once at start-up,
 * then updated from any thread; metrics_render() writes the text exposition
 * format 0.0.4 that Prometheus scrapes. Label values are copied, so callers
 * may pass stack strings. Every family holds at most METRICS_MAX_SERIES label
 * combinations: beyond that, updates for new combinations are dropped and
 * counted in metrics_series_dropped_total, so a bug that puts an id into a
 * label cannot exhaust memory.
 *
 * Ownership: the registry owns every family and series; metric_t pointers
 * stay valid until metrics_free(). */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>

#include "buf.h"

#define METRICS_MAX_LABELS 4
#define METRICS_MAX_SERIES 1000

typedef struct metrics_registry metrics_registry_t;
typedef struct metric metric_t;

/* Latency buckets in seconds, suited to an HTTP service answering in well
 * under a millisecond to several seconds. */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_buckets_len;

metrics_registry_t *metrics_new(void);
void metrics_free(metrics_registry_t *reg);

/* Register a family. name must follow Prometheus naming (counters end in
 * _total); label_names holds nlabels names (nlabels <= METRICS_MAX_LABELS).
 * Returns NULL on bad arguments or out of memory. */
metric_t *metrics_counter(metrics_registry_t *reg, const char *name, const char *help,
                          size_t nlabels, const char *const *label_names);
metric_t *metrics_gauge(metrics_registry_t *reg, const char *name, const char *help,
                        size_t nlabels, const char *const *label_names);
/* buckets: strictly increasing upper bounds, +Inf is implied. */
metric_t *metrics_histogram(metrics_registry_t *reg, const char *name, const char *help,
                            size_t nlabels, const char *const *label_names,
                            const double *buckets, size_t nbuckets);

/* label_values holds as many values as the family has labels (NULL when it
 * has none). Thread-safe. */
void metric_inc(metric_t *m, const char *const *label_values, double v);  /* counter or gauge add */
void metric_set(metric_t *m, const char *const *label_values, double v);  /* gauge */
void metric_observe(metric_t *m, const char *const *label_values, double v); /* histogram */

/* fn is called at the start of every metrics_render(), before any family is
 * written, so it can refresh gauges (for example a row count). */
typedef void (*metrics_collect_fn)(void *user_data);
int metrics_on_collect(metrics_registry_t *reg, metrics_collect_fn fn, void *user_data);

/* Adds the process_* metrics of the official Prometheus clients, read from
 * /proc at render time: process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds. */
int metrics_add_process(metrics_registry_t *reg);

/* Adds the gauge articles_build_info{program,version} 1. */
int metrics_add_build_info(metrics_registry_t *reg, const char *program, const char *version);

/* Appends the text exposition of every family to out. Returns 0 or -1 when
 * memory ran out. */
int metrics_render(metrics_registry_t *reg, buf_t *out);

#endif
