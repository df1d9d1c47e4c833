/* article.h - the article record of the REST core, its validation rules and
 * its JSON form. The rules are the contract's: title 1..200 characters,
 * content at most 1 MiB, author null or at most 100 characters, all valid
 * UTF-8 without NUL. */
#ifndef ARTICLE_H
#define ARTICLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ARTICLE_TIME_LEN 32 /* "2026-11-22T04:17:13.123Z" and NUL */

typedef struct article {
    int64_t id;
    char *title;   /* heap, owned; never NULL in a stored article */
    char *content; /* heap, owned; never NULL in a stored article */
    char *author;  /* heap, owned; NULL means JSON null */
    char created_at[ARTICLE_TIME_LEN];
    char updated_at[ARTICLE_TIME_LEN];
} article_t;

typedef struct article_list {
    article_t *items;
    size_t len;
    size_t cap;
} article_list_t;

/* A JSON merge patch already checked against the rules: only the fields
 * whose bit is set in `fields` change. */
enum {
    ARTICLE_F_TITLE = 1 << 0,
    ARTICLE_F_CONTENT = 1 << 1,
    ARTICLE_F_AUTHOR = 1 << 2,
};
typedef struct article_patch {
    unsigned fields;
    char *title;   /* heap, owned */
    char *content; /* heap, owned */
    char *author;  /* heap, owned; NULL with ARTICLE_F_AUTHOR set means null */
} article_patch_t;

/* The configurable limits (defaults: the contract's numbers). */
typedef struct article_limits {
    int64_t max_title_chars;   /* 200 */
    int64_t max_author_chars;  /* 100 */
    int64_t max_content_bytes; /* 1048576 */
} article_limits_t;

/* Frees the fields, not the struct itself, and zeroes it. */
void article_free(article_t *a);
void article_patch_free(article_patch_t *p);
/* Appends a zeroed slot and returns it, or NULL when memory ran out. */
article_t *article_list_push(article_list_t *l);
void article_list_free(article_list_t *l);

/* Writes the current UTC time as RFC 3339 with milliseconds into
 * out[ARTICLE_TIME_LEN]. */
void article_now(char out[ARTICLE_TIME_LEN]);

/* Bytes of an article's JSON beyond its three texts when they need no
 * escaping: member names, punctuation, id and timestamps. */
#define ARTICLE_JSON_OVERHEAD 160

/* Appends the article's JSON object to out. */
int article_to_json(const article_t *a, buf_t *out);

#endif
