/* playground.c - serving the compiled-in GraphiQL playground; see
 * playground.h. */
#include "playground.h"

#include <string.h>
#include <strings.h>

/* Defined by playground_assets.c; each *_end is one past the file. */
extern const char playground_html[], playground_html_end[];
extern const char playground_graphiql_js[], playground_graphiql_js_end[];
extern const char playground_graphiql_css[], playground_graphiql_css_end[];
extern const char playground_react_js[], playground_react_js_end[];
extern const char playground_react_dom_js[], playground_react_dom_js_end[];

static playground_file_t file(const char *start, const char *end, const char *type)
{
    return (playground_file_t){start, (size_t)(end - start), type};
}

playground_file_t playground_page(void)
{
    return file(playground_html, playground_html_end, "text/html; charset=utf-8");
}

bool playground_asset(const char *name, playground_file_t *out)
{
    static const char js[] = "text/javascript; charset=utf-8";
    if (strcmp(name, "graphiql.min.js") == 0)
        *out = file(playground_graphiql_js, playground_graphiql_js_end, js);
    else if (strcmp(name, "graphiql.min.css") == 0)
        *out = file(playground_graphiql_css, playground_graphiql_css_end, "text/css; charset=utf-8");
    else if (strcmp(name, "react.production.min.js") == 0)
        *out = file(playground_react_js, playground_react_js_end, js);
    else if (strcmp(name, "react-dom.production.min.js") == 0)
        *out = file(playground_react_dom_js, playground_react_dom_js_end, js);
    else
        return false;
    return true;
}

bool playground_wanted(const char *accept)
{
    if (!accept)
        return false;
    /* Browsers send text/html first; API clients send JSON types or * / *. */
    const char *html = strcasestr(accept, "text/html");
    if (!html)
        return false;
    const char *json = strcasestr(accept, "json");
    return !json || html < json;
}
