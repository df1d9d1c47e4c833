/* problem.c - RFC 9457 problem details responses; see problem.h. */
#include "problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vset(problem_t *p, int status, const char *fmt, va_list ap)
{
    memset(p, 0, sizeof *p);
    p->status = status;
    p->index = -1;
    vsnprintf(p->detail, sizeof p->detail, fmt, ap);
}

int problem_set(problem_t *p, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(p, status, fmt, ap);
    va_end(ap);
    if (field)
        snprintf(p->field, sizeof p->field, "%s", field);
    return -1;
}

int problem_param(problem_t *p, const char *parameter, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(p, 400, fmt, ap);
    va_end(ap);
    snprintf(p->parameter, sizeof p->parameter, "%s", parameter);
    return -1;
}

void problem_respond(http_response_t *res, const problem_t *p)
{
    buf_t *b = &res->body;
    buf_reset(b);
    res->status = p->status;
    res->content_type = "application/problem+json";
    const char *title = http_status_text(p->status);
    buf_puts(b, "{\"type\":\"about:blank\",\"title\":");
    buf_put_json_string(b, title, strlen(title));
    buf_printf(b, ",\"status\":%d,\"detail\":", p->status);
    buf_put_json_string(b, p->detail, strlen(p->detail));
    if (p->field[0]) {
        buf_puts(b, ",\"field\":");
        buf_put_json_string(b, p->field, strlen(p->field));
    }
    if (p->parameter[0]) {
        buf_puts(b, ",\"parameter\":");
        buf_put_json_string(b, p->parameter, strlen(p->parameter));
    }
    if (p->index >= 0)
        buf_printf(b, ",\"index\":%ld", p->index);
    buf_putc(b, '}');
}

void problem_simple(http_response_t *res, int status, const char *detail)
{
    problem_t p;
    problem_set(&p, status, NULL, "%s", detail);
    problem_respond(res, &p);
}
