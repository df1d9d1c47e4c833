/* problem.h - RFC 9457 problem details, the error format of the REST core:
 * {"type","title","status","detail"} plus the member that points at the
 * culprit ("field", "parameter", "index"). */
#ifndef PROBLEM_H
#define PROBLEM_H

#include "http_server.h"

typedef struct problem {
    int status;
    char detail[256];
    char field[64];     /* body member at fault, or "" */
    char parameter[64]; /* query parameter at fault, or "" */
    long index;         /* bulk item at fault, or -1 */
} problem_t;

/* Fills p; field may be NULL. Returns -1 so validators can
 * `return problem_set(...)`. */
int problem_set(problem_t *p, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Like problem_set for a query parameter. */
int problem_param(problem_t *p, const char *parameter, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Turns p into an application/problem+json response. */
void problem_respond(http_response_t *res, const problem_t *p);
/* Shortcut for problems without a culprit. */
void problem_simple(http_response_t *res, int status, const char *detail);

#endif
