/* request.c - GraphQL over HTTP, the request side; see request.h. */
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

static int refuse(gql_request_error_t *err, int status, const char *message)
{
    err->status = status;
    snprintf(err->message, sizeof err->message, "%s", message);
    return -1;
}

/* ---- Accept ------------------------------------------------------------- */

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* The q-value of one media range's parameters (p points after the type),
 * 1 when absent; a malformed q counts as 0, so it cannot be chosen. */
static double q_value(const char *p, const char *end)
{
    while (p < end) {
        p = skip_space(p);
        if (*p == ';')
            p = skip_space(p + 1);
        if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            char *stop;
            double q = strtod(p + 2, &stop);
            return stop == p + 2 || q < 0 || q > 1 ? 0 : q;
        }
        const char *next = memchr(p, ';', (size_t)(end - p));
        p = next ? next : end;
    }
    return 1;
}

static bool range_is(const char *p, size_t n, const char *type)
{
    return n == strlen(type) && strncasecmp(p, type, n) == 0;
}

int gql_request_negotiate(const char *accept, gql_media_t *out, gql_request_error_t *err)
{
    if (!accept || !*skip_space(accept)) {
        *out = GQL_MEDIA_JSON;
        return 0;
    }
    double q_gr = 0, q_json = 0;
    for (const char *p = accept; *p;) {
        p = skip_space(p);
        const char *end = p + strcspn(p, ",");
        size_t n = strcspn(p, ";,");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        double q = q_value(p + n, end);
        if (range_is(p, n, "application/graphql-response+json") && q > q_gr)
            q_gr = q;
        if (range_is(p, n, "application/json") && q > q_json)
            q_json = q;
        /* Wildcards: the legacy type, as the specification recommends. */
        if ((range_is(p, n, "*/*") || range_is(p, n, "application/*")) && q > q_json)
            q_json = q;
        p = *end ? end + 1 : end;
    }
    if (q_gr == 0 && q_json == 0)
        return refuse(err, 406, "send Accept: application/graphql-response+json or "
                                "application/json");
    *out = q_gr >= q_json ? GQL_MEDIA_GRAPHQL_RESPONSE : GQL_MEDIA_JSON;
    return 0;
}

/* ---- bodies and parameters ---------------------------------------------- */

/* application/json, with at most a charset parameter that says utf-8. */
static int check_content_type(const char *ct, gql_request_error_t *err)
{
    if (!ct)
        return refuse(err, 415, "send the request as Content-Type: application/json");
    ct = skip_space(ct);
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (!range_is(ct, n, "application/json"))
        return refuse(err, 415, "send the request as Content-Type: application/json");
    const char *cs = strcasestr(ct + n, "charset=");
    if (cs) {
        cs += strlen("charset=");
        if (*cs == '"')
            cs++;
        if (strncasecmp(cs, "utf-8", 5) != 0 && strncasecmp(cs, "utf8", 4) != 0)
            return refuse(err, 415, "the request must be UTF-8 (charset=utf-8)");
    }
    return 0;
}

/* Fills out from the members of a request object (POST body, or the
 * object assembled from GET parameters). */
static int from_object(cJSON *root, gql_http_request_t *out, gql_request_error_t *err)
{
    if (!cJSON_IsObject(root))
        return refuse(err, 400, "the body must be a JSON object {\"query\": ...}");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "query");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(root, "operationName");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "variables");
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(root, "extensions");
    if (!cJSON_IsString(q))
        return refuse(err, 400, q ? "query must be a string" : "the request has no query");
    if (op && !cJSON_IsNull(op) && !cJSON_IsString(op))
        return refuse(err, 400, "operationName must be a string or null");
    if (vars && !cJSON_IsNull(vars) && !cJSON_IsObject(vars))
        return refuse(err, 400, "variables must be an object or null");
    if (ext && !cJSON_IsNull(ext) && !cJSON_IsObject(ext))
        return refuse(err, 400, "extensions must be an object or null");
    out->query = q->valuestring;
    out->query_len = strlen(q->valuestring);
    out->operation_name = cJSON_IsString(op) ? op->valuestring : NULL;
    out->variables = cJSON_IsObject(vars) ? vars : NULL;
    out->extensions = cJSON_IsObject(ext) ? ext : NULL;
    return 0;
}

int gql_request_from_post(const char *content_type, const char *body, size_t len,
                          size_t max_batch, gql_http_request_t *out, gql_request_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (check_content_type(content_type, err) < 0)
        return -1;
    json_error_t jerr;
    cJSON *root = json_parse(body, len, &jerr);
    if (!root)
        return refuse(err, 400, jerr.code == JSON_ENUL ? "strings must not contain \\u0000"
                                                       : jerr.message);
    out->json = root;
    if (cJSON_IsArray(root)) {
        size_t n = (size_t)cJSON_GetArraySize(root);
        char msg[96];
        if (max_batch == 0)
            snprintf(msg, sizeof msg, "batched requests are off here (--max-batch 0)");
        else if (n == 0 || n > max_batch)
            snprintf(msg, sizeof msg, "a batch holds 1 to %zu operations (--max-batch)",
                     max_batch);
        else
            return GQL_REQUEST_BATCH;
        gql_request_free(out);
        return refuse(err, 400, msg);
    }
    if (from_object(root, out, err) < 0) {
        gql_request_free(out);
        return -1;
    }
    return 0;
}

/* Adds a GET parameter holding JSON text as member name of root. */
static int add_json_param(cJSON *root, const char *name, const char *text,
                          gql_request_error_t *err)
{
    if (!text)
        return 0;
    json_error_t jerr;
    cJSON *v = json_parse(text, strlen(text), &jerr);
    if (!v) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be JSON text", name);
        return refuse(err, 400, msg);
    }
    cJSON_AddItemToObject(root, name, v);
    return 0;
}

int gql_request_from_get(const char *query, const char *operation_name, const char *variables,
                         const char *extensions, gql_http_request_t *out,
                         gql_request_error_t *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return refuse(err, 500, "out of memory");
    out->json = root;
    if ((query && !cJSON_AddStringToObject(root, "query", query)) ||
        (operation_name && !cJSON_AddStringToObject(root, "operationName", operation_name))) {
        gql_request_free(out);
        return refuse(err, 500, "out of memory");
    }
    if (add_json_param(root, "variables", variables, err) < 0 ||
        add_json_param(root, "extensions", extensions, err) < 0 ||
        from_object(root, out, err) < 0) {
        gql_request_free(out);
        return -1;
    }
    return 0;
}

int gql_request_batch_item(const gql_http_request_t *batch, size_t i, gql_http_request_t *out,
                           gql_request_error_t *err)
{
    memset(out, 0, sizeof *out);
    return from_object(cJSON_GetArrayItem(batch->json, (int)i), out, err);
}

void gql_request_free(gql_http_request_t *r)
{
    cJSON_Delete(r->json);
    memset(r, 0, sizeof *r);
}
