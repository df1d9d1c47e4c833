/* parser.h - recursive-descent GraphQL parser (specification, October 2021): source text to
 * the AST of ast.h, built in an arena, with graphql-js's error messages and locations, and
 * limits on size, tokens and nesting so that documents from the network cannot exhaust memory
 * or the C stack. The gateway parses client documents with it; the schema loader reads SDL. */
#ifndef GQL_PARSER_H
#define GQL_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "ast.h"
#include "lexer.h"

#define GQL_DEFAULT_MAX_SOURCE_BYTES (1024 * 1024)
#define GQL_DEFAULT_MAX_TOKENS 100000
#define GQL_DEFAULT_MAX_DEPTH 64
/* The parser recurses once per level (a few hundred bytes of stack each), so no option may
 * ask for more levels than this; larger max_depth values are lowered to it. */
#define GQL_MAX_DEPTH_CEILING 1000

/* Zero-initialised ({0}), or a NULL pointer, means: defaults, executable documents only. */
typedef struct gql_parse_options {
    /* Longest source in bytes (0: GQL_DEFAULT_MAX_SOURCE_BYTES). */
    size_t max_source_bytes;
    /* Most tokens, the end of file not counted, as graphql-js's maxTokens (0: default). */
    size_t max_tokens;
    /* Deepest nesting (0: default): each selection set, list value, object value and list
     * type opens one level inside the one around it. max_depth levels are accepted, one more
     * is refused. */
    unsigned max_depth;
    /* Type-system definitions and extensions (schema, type, directive...) are refused with
     * GQL_ENOTEXECUTABLE unless this is set: clients send executable documents, SDL is read
     * by the schema loader only. */
    bool allow_type_system;
} gql_parse_options_t;

/* Parses the document src[0..len) (borrowed; any bytes, not NUL-terminated; NULL when len is
 * 0) into arena. Returns 0 and *out, or a negative GQL_E* code with err filled:
 *   GQL_ESYNTAX         not a GraphQL document, e.g. "Syntax Error: Expected Name, found
 *                       <EOF>." with the line and column graphql-js reports
 *   GQL_ELIMIT          larger, longer or deeper than opt allows ("Syntax Error: Document
 *                       contains more than 100 tokens. Parsing aborted.")
 *   GQL_ENOTEXECUTABLE  a type-system definition without allow_type_system, reported as
 *                       graphql-js's validation does: "The "Foo" definition is not executable."
 *   GQL_ENOMEM          the arena ran out
 * The document, its strings and err->message live in arena; a failed parse may leave unused
 * memory there, which goes with the arena. */
int gql_parse(const char *src, size_t len, const gql_parse_options_t *opt, arena_t *arena,
              gql_document_t **out, gql_error_t *err);

/* One value literal spanning the whole source, as graphql-js's parseValue (is_const: refuse
 * variables, as parseConstValue). Same limits, ownership and errors as gql_parse. */
int gql_parse_value(const char *src, size_t len, const gql_parse_options_t *opt, bool is_const,
                    arena_t *arena, gql_node_t **out, gql_error_t *err);

/* One type reference ("[String!]!") spanning the whole source, as graphql-js's parseType. */
int gql_parse_type(const char *src, size_t len, const gql_parse_options_t *opt, arena_t *arena,
                   gql_node_t **out, gql_error_t *err);

#endif
