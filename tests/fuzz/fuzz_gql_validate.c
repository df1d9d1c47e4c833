/* fuzz_gql_validate.c - libFuzzer target: GraphQL documents parsed and
 * validated against the project's schema (schema/articles.graphql, read at
 * start from the repository root) with the gateway's limits on. Every error
 * must carry a message and a location inside the document. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "schema.h"
#include "validate.h"

static gql_schema_t *schema;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FILE *f = fopen("schema/articles.graphql", "rb");
    static char sdl[1 << 16];
    size_t n = f ? fread(sdl, 1, sizeof sdl, f) : 0;
    if (f)
        fclose(f);
    gql_error_t err;
    if (n == 0 || gql_schema_build(sdl, n, NULL, &schema, &err) != 0) {
        fprintf(stderr, "fuzz_gql_validate: run from the repository root\n");
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t a = {0};
    gql_parse_options_t popt = {.max_tokens = 5000, .max_depth = 32};
    gql_document_t *doc;
    gql_error_t err;
    if (gql_parse((const char *)data, size, &popt, &a, &doc, &err) == 0) {
        gql_validate_options_t vopt = {.max_aliases = 30, .max_root_fields = 30, .max_depth = 15,
                                       .max_directives = 10};
        gql_validation_result_t res;
        int rc = gql_validate(schema, doc, &vopt, &a, &res);
        if (rc != 0 && rc != GQL_EINVALID)
            __builtin_trap();
        if ((rc == 0) != (res.nerrors == 0))
            __builtin_trap();
        for (size_t i = 0; i < res.nerrors; i++)
            if (!res.errors[i].message || !res.errors[i].message[0])
                __builtin_trap();
    }
    arena_free(&a);
    return 0;
}
