/* breaker.c - the circuit breaker of one upstream; see breaker.h. */
#include "breaker.h"

#include <time.h>

static double monotonic_now(void *clock_data)
{
    (void)clock_data;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int breaker_init(breaker_t *b, const breaker_config_t *cfg)
{
    breaker_config_t c = cfg ? *cfg : (breaker_config_t){0};
    if (c.failure_threshold < 0 || !(c.open_seconds >= 0))
        return BREAKER_EINVAL;
    if (c.failure_threshold == 0)
        c.failure_threshold = BREAKER_DEFAULT_THRESHOLD;
    if (c.open_seconds == 0)
        c.open_seconds = BREAKER_DEFAULT_OPEN_SECONDS;
    if (!c.now)
        c.now = monotonic_now;
    *b = (breaker_t){.cfg = c, .state = BREAKER_CLOSED};
    if (pthread_mutex_init(&b->lock, NULL) != 0)
        return BREAKER_EINVAL;
    return 0;
}

void breaker_destroy(breaker_t *b)
{
    pthread_mutex_destroy(&b->lock);
}

int breaker_allow(breaker_t *b)
{
    int rc = 0;
    pthread_mutex_lock(&b->lock);
    if (b->state == BREAKER_HALF_OPEN) {
        /* The probe is out; its answer decides for everyone. */
        rc = BREAKER_EOPEN;
    } else if (b->state == BREAKER_OPEN) {
        if (b->cfg.now(b->cfg.clock_data) - b->opened_at >= b->cfg.open_seconds)
            b->state = BREAKER_HALF_OPEN;
        else
            rc = BREAKER_EOPEN;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static void trip(breaker_t *b)
{
    b->state = BREAKER_OPEN;
    b->opened_at = b->cfg.now(b->cfg.clock_data);
    b->failures = 0;
}

void breaker_record(breaker_t *b, bool success)
{
    pthread_mutex_lock(&b->lock);
    switch (b->state) {
    case BREAKER_CLOSED:
        if (success)
            b->failures = 0;
        else if (++b->failures >= b->cfg.failure_threshold)
            trip(b);
        break;
    case BREAKER_HALF_OPEN:
        if (success) {
            b->state = BREAKER_CLOSED;
            b->failures = 0;
        } else {
            trip(b);
        }
        break;
    default:
        /* A call let through before the breaker opened, finishing late:
         * the breaker already knows the upstream is failing. */
        break;
    }
    pthread_mutex_unlock(&b->lock);
}

int breaker_state(breaker_t *b)
{
    pthread_mutex_lock(&b->lock);
    int s = b->state;
    pthread_mutex_unlock(&b->lock);
    return s;
}

const char *breaker_state_name(int state)
{
    switch (state) {
    case BREAKER_CLOSED: return "closed";
    case BREAKER_OPEN: return "open";
    case BREAKER_HALF_OPEN: return "half_open";
    default: return "unknown";
    }
}
