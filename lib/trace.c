/* trace.c - W3C traceparent; see trace.h. */
#include "trace.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static bool hex_run(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool trace_parent_valid(const char *s)
{
    return s && strlen(s) == 55 && s[0] == '0' && s[1] == '0' && s[2] == '-' && s[35] == '-' &&
           s[52] == '-' && hex_run(s + 3, 32) && hex_run(s + 36, 16) && hex_run(s + 53, 2) &&
           strspn(s + 3, "0") < 32 && strspn(s + 36, "0") < 16; /* all-zero ids are invalid */
}

/* Random bits from a per-thread generator seeded once from the kernel: a
 * system call per request shows in a profile, and trace ids need to be
 * unique, not secret. */
static uint64_t next_random(void)
{
    static _Thread_local uint64_t state;
    if (!state && getrandom(&state, sizeof state, 0) != (ssize_t)sizeof state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&state;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15u); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* 16 lowercase hex digits of v at p. By hand: snprintf cost more than the
 * rest of a gateway request's bookkeeping. */
static char *put_hex64(char *p, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, v >>= 4)
        p[i] = digits[v & 15];
    return p + 16;
}

void trace_parent_new(char out[TRACE_PARENT_SIZE])
{
    uint64_t a = next_random(), b = next_random(), c = next_random();
    /* | 1 keeps the parent id from being all zeros; the trace id is all
     * zeros with odds of 2^-128. */
    char *p = out;
    memcpy(p, "00-", 3);
    p = put_hex64(put_hex64(p + 3, a), b);
    *p++ = '-';
    p = put_hex64(p, c | 1);
    memcpy(p, "-01", 4);
}

bool trace_id_of(const char *traceparent, char out[TRACE_ID_SIZE])
{
    out[0] = '\0';
    if (!trace_parent_valid(traceparent))
        return false;
    memcpy(out, traceparent + 3, 32);
    out[32] = '\0';
    return true;
}
