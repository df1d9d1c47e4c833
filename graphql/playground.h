/* playground.h - the GraphiQL playground that a browser's GET on /graphql
 * gets: the page and its scripts and styles, compiled into the binary. */
#ifndef GQL_PLAYGROUND_H
#define GQL_PLAYGROUND_H

#include <stdbool.h>
#include <stddef.h>

typedef struct playground_file {
    const char *data;
    size_t len;
    const char *content_type;
} playground_file_t;

/* The page. */
playground_file_t playground_page(void);

/* The asset at /graphql/assets/NAME; false when there is none. */
bool playground_asset(const char *name, playground_file_t *out);

/* True when a request with this Accept header is a browser asking for a
 * page: text/html is accepted and preferred over JSON. */
bool playground_wanted(const char *accept);

#endif
