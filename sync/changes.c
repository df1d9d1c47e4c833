/* changes.c - source changes to events; see changes.h. */
#include "changes.h"

#include <stdio.h>
#include <string.h>

static event_text_t text_of(const char *s)
{
    return s ? (event_text_t){.data = (char *)s, .len = strlen(s)} : (event_text_t){.is_null = true};
}

/* A text the source measured: its NUL bytes stay in, for event_validate to
 * refuse. */
static event_text_t text_of_n(const char *s, size_t len)
{
    event_text_t t = text_of(s);
    if (s && len > t.len)
        t.len = len;
    return t;
}

/* "YYYY-MM-DD HH:MM:SS[.fff]" (SQLite's own form, taken as UTC) becomes
 * "YYYY-MM-DDTHH:MM:SS[.fff]Z"; text already in RFC 3339 passes as is, and
 * event_validate checks the rest. */
int changes_rfc3339(const char *text, char out[EVENT_MAX_TIME_BYTES + 1])
{
    size_t n = strlen(text);
    if (n < 19 || n > EVENT_MAX_TIME_BYTES)
        return -1;
    for (size_t i = 0; i < 19; i++) {
        char c = text[i];
        bool digit = c >= '0' && c <= '9';
        bool want_digit = !(i == 4 || i == 7 || i == 10 || i == 13 || i == 16);
        if (want_digit != digit)
            return -1;
    }
    if (text[4] != '-' || text[7] != '-' || text[13] != ':' || text[16] != ':')
        return -1;
    if (text[10] == 'T') {
        memcpy(out, text, n + 1);
        return 0;
    }
    if (text[10] != ' ' || n + 1 > EVENT_MAX_TIME_BYTES)
        return -1;
    /* A bare local form carries no zone: SQLite writes UTC. */
    if (strpbrk(text + 19, "Zz+-"))
        return -1;
    snprintf(out, EVENT_MAX_TIME_BYTES + 1, "%.10sT%sZ", text, text + 11);
    return 0;
}

static event_text_t time_of(const char *s, char *scratch)
{
    if (!s || changes_rfc3339(s, scratch) < 0)
        return (event_text_t){.is_null = true};
    return text_of(scratch);
}

int changes_to_event(const source_change_t *ch, source_kind_t kind, const char *ts,
                     changes_scratch_t *scratch, event_t *ev, event_error_t *err)
{
    const source_article_t *a = &ch->article;
    *ev = (event_t){
        .op = ch->op == SOURCE_OP_DELETE ? EVENT_OP_DELETE : EVENT_OP_UPSERT,
        .id = a->id,
        .seq = ch->seq,
        .source = kind == SOURCE_KIND_PG ? EVENT_SOURCE_POSTGRESQL : EVENT_SOURCE_SQLITE,
    };
    snprintf(ev->ts, sizeof ev->ts, "%s", ts);
    if (ev->op == EVENT_OP_UPSERT) {
        ev->title = text_of_n(a->title, a->title_len);
        ev->content = a->content ? text_of_n(a->content, a->content_len) : text_of("");
        ev->author = text_of_n(a->author, a->author_len);
        ev->created_at = time_of(a->created_at, scratch->created_at);
        ev->updated_at = time_of(a->updated_at, scratch->updated_at);
    }
    return event_validate(ev, err);
}
