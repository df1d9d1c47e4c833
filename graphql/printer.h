/* printer.h - AST to GraphQL text, byte for byte in the format of graphql-js's print(): two
 * spaces of indentation, one selection or field per line, "(a: 1, b: 2)" arguments (one per
 * line when the field's line would pass 80 characters, or when an argument definition has a
 * description), strings escaped as graphql-js escapes them, block strings and descriptions
 * kept as block strings. Used for parse-print-parse round trips and by the schema tools. */
#ifndef GQL_PRINTER_H
#define GQL_PRINTER_H

#include "ast.h"
#include "buf.h"

/* Appends the text of node (any kind; a document gives its definitions separated by blank
 * lines, with no final newline) to out. Returns 0, or -1 when memory ran out (out->failed).
 * Recursion is as deep as the tree, which the parser bounds. */
int gql_print(const gql_node_t *node, buf_t *out);

#endif
