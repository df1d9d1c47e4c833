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

/* Parses exactly one JSON value spanning text[0..len) (surrounding white
 * space allowed). Returns the tree (caller frees with cJSON_Delete) or NULL
 * with a message in err. The text is first checked against RFC 8259's
 * grammar, because cJSON accepts more: leading zeros, "1.", raw control
 * characters in strings and \u escapes without four hex digits (which it
 * reads as U+0000, cutting the string short). Raw NUL bytes, trailing data
 * and nesting beyond JSON_MAX_DEPTH are refused too. */
cJSON *json_parse(const char *text, size_t len, char *err, size_t errlen);

/* cJSON turns the escape \u0000 into a C string cut short, so the damage
 * could not be seen after parsing. This rewrites every \u0000 inside a
 * string literal of text into \u0001 in place, before parsing, so that the
 * validator's control-character check catches it at the right field.
 * Returns the number of escapes rewritten. */
size_t json_mask_nul_escapes(char *text, size_t len);

/* Human name of a value's type for error messages ("a string", "null"...). */
const char *json_type_name(const cJSON *v);

#endif
