/* fuzz_decode.c - libFuzzer target: the REST core's body validation (POST,
 * PUT, PATCH, bulk) on any bytes. The first byte picks the kind; what is
 * accepted must satisfy the article rules, what is refused must carry a
 * 400/422 problem. */
#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "utf8.h"

static const article_limits_t limits = {200, 100, 1048576};

static void check_article(const article_t *a)
{
    size_t n = strlen(a->title);
    if (n == 0 || utf8_count(a->title, n) > 200 || !utf8_valid(a->title, n))
        __builtin_trap();
    if (strlen(a->content) > 1048576 || !utf8_valid(a->content, strlen(a->content)))
        __builtin_trap();
    if (a->author && utf8_count(a->author, strlen(a->author)) > 100)
        __builtin_trap();
}

static void check_problem(const problem_t *p)
{
    if (p->status != 400 && p->status != 422)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    problem_t err;
    switch (data[0] % 4) {
    case 0:
    case 1: {
        article_t a;
        decode_mode_t mode = data[0] % 4 == 0 ? DECODE_CREATE : DECODE_REPLACE;
        if (decode_article_body(body, len, mode, 7, &limits, &a, &err) == 0) {
            check_article(&a);
            article_free(&a);
        } else {
            check_problem(&err);
        }
        break;
    }
    case 2: {
        article_patch_t p;
        if (decode_patch_body(body, len, 7, &limits, &p, &err) == 0)
            article_patch_free(&p);
        else
            check_problem(&err);
        break;
    }
    default: {
        store_bulk_op_t *ops;
        size_t n;
        if (decode_bulk_body(body, len, 50, &limits, &ops, &n, &err) == 0) {
            for (size_t i = 0; i < n; i++)
                if (ops[i].kind == STORE_BULK_UPSERT)
                    check_article(&ops[i].article);
            decode_bulk_free(ops, n);
        } else {
            check_problem(&err);
        }
    }
    }
    return 0;
}
