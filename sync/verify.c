/* verify.c - source and REST core compared; see verify.h. */
#include "verify.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define PAGE 1000

/* One page of the REST core's articles, after_id onwards. */
typedef struct rest_page {
    cJSON *doc; /* the array */
    const cJSON *cur;
} rest_page_t;

static int fetch_page(http_client_t *rest, const char *authorization, int64_t after,
                      rest_page_t *pg, char *err, size_t errlen)
{
    char path[96];
    if (after > 0)
        snprintf(path, sizeof path, "/articles?after_id=%lld&limit=%d&sort=id", (long long)after,
                 PAGE);
    else
        snprintf(path, sizeof path, "/articles?limit=%d&sort=id", PAGE);
    http_call_t call = {.method = "GET", .path = path, .authorization = authorization};
    http_client_run(rest, &call, 1);
    int rc = 0;
    if (call.err) {
        snprintf(err, errlen, "GET %s: %s", path, call.error);
        rc = -1;
    } else if (call.status != 200) {
        snprintf(err, errlen, "GET %s: the REST core answered %d", path, call.status);
        rc = -1;
    } else {
        json_error_t jerr;
        cJSON_Delete(pg->doc);
        pg->doc = json_parse(call.response.data, call.response.len, &jerr);
        if (!cJSON_IsArray(pg->doc)) {
            snprintf(err, errlen, "GET %s: not a JSON array", path);
            rc = -1;
        }
        pg->cur = pg->doc ? pg->doc->child : NULL;
    }
    http_call_free(&call);
    return rc;
}

static int64_t rest_id(const cJSON *a)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
    return cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0;
}

/* Whether the REST core's string member equals the source's text (NULL
 * for a null); a NULL content travels as "". */
static bool same_text(const cJSON *a, const char *name, const char *src, bool null_is_empty)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, name);
    if (!src && null_is_empty)
        src = "";
    if (!src)
        return cJSON_IsNull(v);
    return cJSON_IsString(v) && strcmp(v->valuestring, src) == 0;
}

static void report(FILE *out, long *lines, long max, const char *fmt, int64_t id,
                   const char *what)
{
    if ((*lines)++ < max)
        fprintf(out, fmt, (long long)id, what);
}

static void compare(const source_article_t *s, const cJSON *r, verify_result_t *res, FILE *out,
                    long *lines, long max)
{
    char what[64] = "";
    if (!same_text(r, "title", s->title, false))
        strcat(what, " title");
    if (!same_text(r, "content", s->content, true))
        strcat(what, " content");
    if (!same_text(r, "author", s->author, false))
        strcat(what, " author");
    if (what[0]) {
        res->different++;
        report(out, lines, max, "different %lld:%s\n", s->id, what);
    }
}

int verify_run(source_t *src, http_client_t *rest, const char *authorization, FILE *out,
               long max_lines, verify_result_t *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    rest_page_t pg = {0};
    source_article_t *rows = NULL;
    size_t n = 0, i = 0;
    int64_t src_after = 0, rest_after = 0;
    long lines = 0;
    bool src_done = false, rest_done = false;
    int rc = 0;
    for (;;) {
        if (!src_done && i == n) {
            source_articles_free(rows);
            rows = NULL;
            i = 0;
            if ((rc = source_iterate_articles(src, src_after, PAGE, &rows, &n, err, errlen)) < 0)
                break;
            src_done = n == 0;
            if (n)
                src_after = rows[n - 1].id;
        }
        if (!rest_done && !pg.cur) {
            if ((rc = fetch_page(rest, authorization, rest_after, &pg, err, errlen)) < 0)
                break;
            rest_done = !pg.cur;
            for (const cJSON *a = pg.cur; a; a = a->next)
                rest_after = rest_id(a);
        }
        if (src_done && rest_done)
            break;
        int64_t sid = src_done ? INT64_MAX : rows[i].id;
        int64_t rid = rest_done ? INT64_MAX : rest_id(pg.cur);
        if (sid == rid) {
            compare(&rows[i], pg.cur, res, out, &lines, max_lines);
            res->source_rows++, res->rest_rows++;
            i++, pg.cur = pg.cur->next;
        } else if (sid < rid) {
            res->missing++, res->source_rows++;
            report(out, &lines, max_lines, "missing %lld%s\n", sid, "");
            i++;
        } else {
            res->extra++, res->rest_rows++;
            report(out, &lines, max_lines, "extra %lld%s\n", rid, "");
            pg.cur = pg.cur->next;
        }
    }
    if (lines > max_lines)
        fprintf(out, "... and %ld more differences\n", lines - max_lines);
    source_articles_free(rows);
    cJSON_Delete(pg.doc);
    return rc < 0 ? -1 : 0;
}
