/* fuzz_gql_parse.c - libFuzzer target: the GraphQL parser on any bytes, as
 * an executable document and as SDL. What parses must print, and the printed
 * text must parse again to the same print (a fixed point), except where the
 * printer (byte for byte graphql-js's print) is ambiguous: a query in its
 * shorthand "{ a }" right after a type definition without a body reads back
 * as that type's fields, so documents mixing type system and executable
 * definitions only have to print. */
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "parser.h"
#include "printer.h"

/* True when doc holds both executable and type system definitions. */
static bool mixed(const gql_document_t *doc)
{
    bool exec = false, types = false;
    for (uint32_t i = 0; i < doc->definitions.count; i++) {
        gql_kind_t k = doc->definitions.items[i]->kind;
        if (k == GQL_KIND_OPERATION_DEFINITION || k == GQL_KIND_FRAGMENT_DEFINITION)
            exec = true;
        else
            types = true;
    }
    return exec && types;
}

static void round_trip(const uint8_t *data, size_t size, bool sdl)
{
    arena_t a = {0};
    gql_parse_options_t opt = {.allow_type_system = sdl, .max_tokens = 5000, .max_depth = 32};
    gql_document_t *doc;
    gql_error_t err;
    if (gql_parse((const char *)data, size, &opt, &a, &doc, &err) == 0) {
        buf_t once = {0}, twice = {0};
        gql_print(&doc->base, &once);
        gql_document_t *again;
        opt.max_tokens = 0;
        opt.max_depth = 0;
        if (!mixed(doc)) {
            if (gql_parse(once.data, once.len, &opt, &a, &again, &err) != 0)
                __builtin_trap();
            gql_print(&again->base, &twice);
            if (once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0)
                __builtin_trap();
        }
        buf_free(&once);
        buf_free(&twice);
    } else if (!err.message || !err.message[0]) {
        __builtin_trap();
    }
    arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    round_trip(data, size, false);
    round_trip(data, size, true);
    return 0;
}
