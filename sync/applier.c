/* applier.c - changes to the REST core in bulk requests; see applier.h. */
#include "applier.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define DEFAULT_MAX_BATCH 1000

/* The REST core's verdict on one request of items idx[0..n). */
typedef enum verdict {
    V_APPLIED,
    V_REJECT_ONE,  /* idx[*bad] is refused for good */
    V_SPLIT,       /* refused as a whole (too large, unclear): halve it */
    V_UNAVAILABLE,
    V_FATAL,
} verdict_t;

static int build_body(const applier_item_t *items, const size_t *idx, size_t n, buf_t *body)
{
    buf_reset(body);
    buf_putc(body, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(body, ',');
        buf_append(body, items[idx[i]].json, items[idx[i]].len);
    }
    buf_putc(body, ']');
    return body->failed ? APPLIER_ENOMEM : 0;
}

/* The problem's index and detail, when the answer is problem+json. */
static long problem_index(const http_call_t *call, char *detail, size_t len)
{
    json_error_t jerr;
    cJSON *p = json_parse(call->response.data, call->response.len, &jerr);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(p, "detail");
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(p, "index");
    snprintf(detail, len, "%s", cJSON_IsString(d) ? d->valuestring : "refused by the REST core");
    long index = cJSON_IsNumber(i) && i->valuedouble >= 0 ? (long)i->valuedouble : -1;
    cJSON_Delete(p);
    return index;
}

static verdict_t judge(const http_call_t *call, size_t n, size_t *bad, char *detail, size_t len)
{
    int s = call->status;
    if (call->err) {
        snprintf(detail, len, "%.180s", call->error);
        return V_UNAVAILABLE;
    }
    if (s == 200)
        return V_APPLIED;
    if (s == 408 || s == 429 || s >= 500) {
        snprintf(detail, len, "the REST core answered %d", s);
        return V_UNAVAILABLE;
    }
    if (s == 400 || s == 422) {
        long i = problem_index(call, detail, len);
        if (i >= 0 && (size_t)i < n) {
            *bad = (size_t)i;
            return V_REJECT_ONE;
        }
        return V_SPLIT;
    }
    if (s == 413) {
        snprintf(detail, len, "larger than the REST core's --max-body-bytes");
        return V_SPLIT;
    }
    if (s == 401 || s == 403)
        snprintf(detail, len,
                 "the REST core refused the sync daemon's token (%d): set REST_API_TOKEN "
                 "(--rest-api-token) to a token it accepts",
                 s);
    else
        snprintf(detail, len, "the REST core answered POST /articles/bulk with %d", s);
    return V_FATAL;
}

static void reject(applier_item_t *it, int status, const char *detail)
{
    it->outcome = APPLIER_REJECTED;
    it->status = status;
    snprintf(it->reason, sizeof it->reason, "%s", detail);
}

/* Sends idx[0..n) until each is applied or rejected, halving on V_SPLIT.
 * Returns 0 or a negative APPLIER_E* code. */
static int send_group(const applier_config_t *cfg, applier_item_t *items, size_t *idx, size_t n,
                      buf_t *body, char *err, size_t errlen)
{
    while (n) {
        int rc = build_body(items, idx, n, body);
        if (rc < 0)
            return rc;
        http_call_t call = {.method = "POST", .path = "/articles/bulk", .body = body->data,
                            .body_len = body->len, .content_type = "application/json",
                            .authorization = cfg->authorization,
                            .traceparent = items[idx[0]].traceparent};
        http_client_run(cfg->client, &call, 1);
        char detail[192];
        size_t bad = 0;
        verdict_t v = judge(&call, n, &bad, detail, sizeof detail);
        int status = call.status;
        http_call_free(&call);
        switch (v) {
        case V_APPLIED:
            for (size_t i = 0; i < n; i++)
                items[idx[i]].outcome = APPLIER_APPLIED;
            return 0;
        case V_REJECT_ONE:
            /* All or nothing: the others were not applied; send them again. */
            reject(&items[idx[bad]], status, detail);
            memmove(idx + bad, idx + bad + 1, (n - bad - 1) * sizeof *idx);
            n--;
            break;
        case V_SPLIT:
            if (n == 1) {
                reject(&items[idx[0]], status, detail);
                return 0;
            }
            rc = send_group(cfg, items, idx, n / 2, body, err, errlen);
            if (rc < 0)
                return rc;
            idx += n / 2;
            n -= n / 2;
            break;
        case V_UNAVAILABLE:
            snprintf(err, errlen, "%s", detail);
            return APPLIER_EUNAVAILABLE;
        case V_FATAL:
            snprintf(err, errlen, "%s", detail);
            return APPLIER_EFATAL;
        }
    }
    return 0;
}

int applier_apply(const applier_config_t *cfg, applier_item_t *items, size_t n, char *err,
                  size_t errlen)
{
    size_t max = cfg->max_batch ? cfg->max_batch : DEFAULT_MAX_BATCH;
    size_t *idx = malloc((max ? max : 1) * sizeof *idx);
    buf_t body = {0};
    int rc = idx ? 0 : APPLIER_ENOMEM;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t k = 0;
        for (; i < n && k < max; i++)
            if (items[i].outcome == APPLIER_PENDING)
                idx[k++] = i;
        /* An article's run of changes goes in one request, so one
         * transaction: replayed after a crash, it never shows the article
         * going back to an older state. */
        if (i < n && k == max && items[i].joined) {
            size_t r = k - 1;
            while (r > 0 && items[idx[r]].joined)
                r--;
            if (r > 0)
                k = r, i = idx[r];
        }
        if (k)
            rc = send_group(cfg, items, idx, k, &body, err, errlen);
    }
    if (rc == APPLIER_ENOMEM)
        snprintf(err, errlen, "out of memory");
    buf_free(&body);
    free(idx);
    return rc;
}
