/* lexer.h - GraphQL lexer (specification, October 2021, section 2): turns UTF-8 source text
 * into tokens with graphql-js's positions and error messages. The first stage of the parser;
 * also defines the error struct that the whole front end (lexer, parser) fills.
 *
 * Departures from the letter of the specification, both deliberate: the source must be valid
 * UTF-8 (the specification reads Unicode text; the bytes are refused rather than guessed), and
 * a raw U+0000 is refused everywhere, also in strings and comments, because no legitimate
 * document holds one and C tools and logs would cut the text short there. The escape \u0000
 * inside a string is accepted: values carry their length. */
#ifndef GQL_LEXER_H
#define GQL_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Error codes of the GraphQL engine (negative, as every error code of the project). */
enum {
    GQL_ESYNTAX = -1,        /* not GraphQL: lexical or grammar error, invalid UTF-8 */
    GQL_ELIMIT = -2,         /* a limit of gql_parse_options_t was exceeded */
    GQL_ENOMEM = -3,         /* the arena ran out of memory (or reached its limit) */
    GQL_ENOTEXECUTABLE = -4, /* a type-system definition where only operations are allowed */
    GQL_ESCHEMA = -5,        /* the SDL parsed but does not make a valid schema */
    GQL_EINVALID = -6,       /* the document fails validation (the errors are in the result) */
};

typedef struct gql_error {
    int code; /* GQL_E*, or 0 when there was no error */
    /* Where the fault is. line and column are 1-based, the column counted in UTF-16 code units
     * as graphql-js does; both are 0 when the error has no place (size limit, memory). */
    uint32_t line;
    uint32_t column;
    size_t offset; /* byte offset from the start of the source */
    /* One sentence for the client, in graphql-js's words ("Syntax Error: Unexpected "}".").
     * Borrowed: lives in the arena of the parse, or is a static string. */
    const char *message;
} gql_error_t;

/* The token kinds of the specification, in graphql-js's order. */
typedef enum gql_token_kind {
    GQL_TOKEN_EOF,
    GQL_TOKEN_BANG,      /* ! */
    GQL_TOKEN_DOLLAR,    /* $ */
    GQL_TOKEN_AMP,       /* & */
    GQL_TOKEN_PAREN_L,   /* ( */
    GQL_TOKEN_PAREN_R,   /* ) */
    GQL_TOKEN_SPREAD,    /* ... */
    GQL_TOKEN_COLON,     /* : */
    GQL_TOKEN_EQUALS,    /* = */
    GQL_TOKEN_AT,        /* @ */
    GQL_TOKEN_BRACKET_L, /* [ */
    GQL_TOKEN_BRACKET_R, /* ] */
    GQL_TOKEN_BRACE_L,   /* { */
    GQL_TOKEN_PIPE,      /* | */
    GQL_TOKEN_BRACE_R,   /* } */
    GQL_TOKEN_NAME,
    GQL_TOKEN_INT,
    GQL_TOKEN_FLOAT,
    GQL_TOKEN_STRING,
    GQL_TOKEN_BLOCK_STRING,
    GQL_TOKEN_COMMENT, /* only with gql_lexer_t.keep_comments */
} gql_token_kind_t;

typedef struct gql_token {
    gql_token_kind_t kind;
    uint32_t start; /* byte offsets of the token in the source: [start, end) */
    uint32_t end;
    uint32_t line;   /* 1-based */
    uint32_t column; /* 1-based, in UTF-16 code units from the start of the line */
    /* NAME, INT, FLOAT: the text as written; COMMENT: the text after '#'. Both point into the
     * source (not NUL-terminated) and live as long as it does.
     * STRING, BLOCK_STRING: the value (escapes decoded, block indentation removed), UTF-8,
     * NUL-terminated, in the arena; may hold NULs written as \u0000, hence len.
     * Punctuators and EOF: NULL. */
    const char *value;
    uint32_t len;
} gql_token_t;

/* Lexer state; fill it with gql_lexer_init. */
typedef struct gql_lexer {
    const char *src;
    uint32_t len;
    uint32_t pos;        /* where the next token search starts */
    uint32_t line;       /* line of pos */
    uint32_t line_start; /* byte offset where that line starts */
    /* Bytes minus UTF-16 code units of the characters between line_start and pos: what turns
     * a byte offset into a graphql-js column without rescanning the line. */
    uint32_t line_adjust;
    bool keep_comments; /* return COMMENT tokens instead of skipping them */
    arena_t *arena;     /* receives string values and error messages */
} gql_lexer_t;

/* Largest source the lexer accepts: offsets are 32-bit to keep tokens and nodes small, with
 * room to look a few bytes past the end without wrapping. */
#define GQL_LEXER_MAX_SOURCE (UINT32_MAX / 2)

/* Prepares lx to read src[0..len) (borrowed: it must outlive the tokens). Returns 0, or
 * GQL_ELIMIT when len is above GQL_LEXER_MAX_SOURCE. src may be NULL when len is 0. */
int gql_lexer_init(gql_lexer_t *lx, const char *src, size_t len, arena_t *arena, gql_error_t *err);

/* Reads the next token into tok. Ignored tokens (white space, line terminators, commas,
 * comments unless kept, byte order marks) are skipped. Returns 0, or GQL_ESYNTAX / GQL_ENOMEM
 * with err filled. At the end it returns EOF tokens, again and again. */
int gql_lexer_next(gql_lexer_t *lx, gql_token_t *tok, gql_error_t *err);

/* The kind as graphql-js names it in messages: "\"!\"", "\"...\"", "Name", "<EOF>"... */
const char *gql_token_kind_desc(gql_token_kind_t kind);

/* Fills err: code, place, and the printf-formatted message allocated in arena (the static
 * "Out of memory." and GQL_ENOMEM when that fails). Returns err->code, so that error paths
 * can `return gql_error_set(...)`. Shared by every stage that reports against the source. */
int gql_error_set(gql_error_t *err, arena_t *arena, int code, uint32_t line, uint32_t column,
                  size_t offset, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

#endif
