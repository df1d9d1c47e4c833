/* article.c - the article record: memory management, timestamps and the
 * JSON encoder used on every answer (hand-written rather than built through
 * cJSON trees, because GET by id is the hottest path of the system). */
#include "article.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

void article_free(article_t *a)
{
    free(a->title);
    free(a->content);
    free(a->author);
    memset(a, 0, sizeof *a);
}

void article_patch_free(article_patch_t *p)
{
    free(p->title);
    free(p->content);
    free(p->author);
    memset(p, 0, sizeof *p);
}

article_t *article_list_push(article_list_t *l)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        article_t *items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return NULL;
        l->items = items;
        l->cap = cap;
    }
    article_t *a = &l->items[l->len++];
    memset(a, 0, sizeof *a);
    return a;
}

void article_list_free(article_list_t *l)
{
    for (size_t i = 0; i < l->len; i++)
        article_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void article_now(char out[ARTICLE_TIME_LEN])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, ARTICLE_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, ARTICLE_TIME_LEN - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

int article_to_json(const article_t *a, buf_t *out)
{
    buf_puts(out, "{\"id\":");
    buf_put_i64(out, a->id);
    buf_puts(out, ",\"title\":");
    buf_put_json_string(out, a->title ? a->title : "", a->title ? strlen(a->title) : 0);
    buf_puts(out, ",\"content\":");
    buf_put_json_string(out, a->content ? a->content : "", a->content ? strlen(a->content) : 0);
    buf_puts(out, ",\"author\":");
    if (a->author)
        buf_put_json_string(out, a->author, strlen(a->author));
    else
        buf_puts(out, "null");
    buf_puts(out, ",\"created_at\":\"");
    buf_puts(out, a->created_at);
    buf_puts(out, "\",\"updated_at\":\"");
    buf_puts(out, a->updated_at);
    return buf_puts(out, "\"}");
}
