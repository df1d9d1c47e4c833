/* decode.h - request bodies of the REST core turned into validated records.
 * Everything a client sends passes through here before it reaches the
 * store; a rejected body fills a problem_t (400 for malformed JSON, 422 for
 * JSON that breaks the rules, with the field at fault). */
#ifndef DECODE_H
#define DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "article.h"
#include "problem.h"
#include "store.h"

/* Largest id a JSON body may carry: JSON numbers are exact up to 2^53 in
 * most clients, and cJSON reads them as doubles. Larger ids are reachable
 * through the path. */
#define DECODE_MAX_JSON_ID 9007199254740991LL

typedef enum decode_mode {
    DECODE_CREATE,  /* POST: no id allowed */
    DECODE_REPLACE, /* PUT: id optional, must equal the path id */
    DECODE_BULK,    /* bulk upsert: id required */
} decode_mode_t;

/* The body functions parse and validate. On success the output owns heap strings (free them with
 * article_free / article_patch_free / decode_bulk_free). */
int decode_article_body(const char *body, size_t len, decode_mode_t mode, int64_t path_id,
                        const article_limits_t *lim, article_t *out, problem_t *err);
int decode_patch_body(const char *body, size_t len, int64_t path_id, const article_limits_t *lim,
                      article_patch_t *out, problem_t *err);
int decode_bulk_body(const char *body, size_t len, size_t max_ops, const article_limits_t *lim,
                     store_bulk_op_t **ops, size_t *nops, problem_t *err);
void decode_bulk_free(store_bulk_op_t *ops, size_t n);

#endif
