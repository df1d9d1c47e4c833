/* breaker.h - a thread-safe circuit breaker, one per upstream, so that a
 * program stops sending calls to an upstream that keeps failing and finds
 * out with a single probe when it is back (used by lib/http_client.c).
 *
 * closed:    calls pass; failure_threshold consecutive failures open it.
 * open:      calls are refused at once; after open_seconds the next call
 *            passes as the probe and the breaker turns half-open.
 * half_open: only the probe is in flight, every other call is refused; the
 *            probe's success closes the breaker, its failure reopens it for
 *            another open_seconds.
 *
 * Every call that breaker_allow() let through must be followed by exactly
 * one breaker_record(): a probe that is never recorded keeps the breaker
 * half-open for good. While half-open, the first result recorded is taken as
 * the probe's, even when it comes from a call let through earlier. */
#ifndef BREAKER_H
#define BREAKER_H

#include <pthread.h>
#include <stdbool.h>

enum { BREAKER_CLOSED = 0, BREAKER_OPEN = 1, BREAKER_HALF_OPEN = 2 };

#define BREAKER_EOPEN (-1) /* breaker_allow(): refused, the upstream is considered down */
#define BREAKER_EINVAL (-2)

#define BREAKER_DEFAULT_THRESHOLD 5
#define BREAKER_DEFAULT_OPEN_SECONDS 5.0

typedef double (*breaker_clock_fn)(void *clock_data);

typedef struct breaker_config {
    int failure_threshold; /* consecutive failures that open it; 0: 5 */
    double open_seconds;   /* time open before the probe; 0: 5 */
    breaker_clock_fn now;  /* seconds on a monotonic clock; NULL: CLOCK_MONOTONIC */
    void *clock_data;      /* passed to now */
} breaker_config_t;

/* Plain data so it can live inside another struct; the fields are private. */
typedef struct breaker {
    pthread_mutex_t lock;
    breaker_config_t cfg;
    int state;
    int failures;     /* consecutive, while closed */
    double opened_at; /* clock reading when it last opened */
} breaker_t;

/* cfg may be NULL for every default; it is copied. Returns 0, or
 * BREAKER_EINVAL for a negative threshold or period. */
int breaker_init(breaker_t *b, const breaker_config_t *cfg);
void breaker_destroy(breaker_t *b);
/* 0: go ahead (then call breaker_record); BREAKER_EOPEN: refused. */
int breaker_allow(breaker_t *b);
/* success: the upstream answered sensibly; false: it failed (transport
 * error or 5xx). */
void breaker_record(breaker_t *b, bool success);
/* BREAKER_CLOSED, BREAKER_OPEN or BREAKER_HALF_OPEN, e.g. for a gauge. An
 * open breaker whose period is over reads open until a call probes it. */
int breaker_state(breaker_t *b);
/* "closed", "open", "half_open". */
const char *breaker_state_name(int state);

#endif
