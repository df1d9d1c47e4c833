/* verify.h - the `verify` command: compares the source's articles with the
 * REST core's, both read in id order by keyset paging (the source directly,
 * the REST core through GET /articles?after_id=&sort=id), and reports every
 * article missing from the REST core, extra in it, or different in title,
 * content or author. */
#ifndef SYNC_VERIFY_H
#define SYNC_VERIFY_H

#include <stdint.h>
#include <stdio.h>

#include "http_client.h"
#include "source.h"

typedef struct verify_result {
    int64_t source_rows, rest_rows;
    int64_t missing, extra, different;
} verify_result_t;

/* Writes one line per difference to out (at most max_lines; the counts
 * include them all). Returns 0 (look at the counts for drift) or -1 with
 * err when either side could not be read. */
int verify_run(source_t *src, http_client_t *rest, const char *authorization, FILE *out,
               long max_lines, verify_result_t *res, char *err, size_t errlen);

#endif
