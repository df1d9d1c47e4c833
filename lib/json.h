/* json.h - JSON input on cJSON, hardened for bodies from the network.
 * cJSON trusts its input in ways a server cannot: it stops strings at an
 * escaped NUL, passes invalid UTF-8 through and ignores what follows the
 * first value when asked to. json_parse() closes those gaps. */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

/* Containers nested deeper than this are refused. An article body needs
 * three levels; cJSON's own limit (1000) is far above what anyone sends. */
#define JSON_MAX_DEPTH 64
#define JSON_MAX_DEPTH_TEXT "64"

enum {
    JSON_ESYNTAX = -1, /* not JSON (RFC 8259), or nested too deep */
    JSON_ENUL = -2,    /* JSON, but a string holds \u0000 */
    JSON_ENOMEM = -3,
};

typedef struct json_error {
    int code;
    size_t offset;     /* where the fault is, in bytes from the start */
    char message[160]; /* one sentence for a person */
    char pointer[128]; /* JSON_ENUL: RFC 6901 pointer to the string, e.g. "/3/article/title" */
} json_error_t;

/* Parses exactly one JSON value spanning text[0..len) (surrounding white
 * space allowed). Returns the tree (caller frees with cJSON_Delete) or NULL
 * with err filled. The text is first checked against RFC 8259's grammar,
 * because cJSON accepts more: leading zeros, "1.", raw control characters
 * in strings and \u escapes without four hex digits. Strings holding
 * \u0000 are refused as well, since cJSON would cut them short (a member
 * "title\u0000x" would pass for "title"); the error points at the string. */
cJSON *json_parse(const char *text, size_t len, json_error_t *err);

/* Human name of a value's type for error messages ("a string", "null"...). */
const char *json_type_name(const cJSON *v);

#endif
