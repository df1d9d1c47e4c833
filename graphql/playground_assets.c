/* playground_assets.c - the files of the GraphiQL playground, linked into
 * bin/articles-graphql so the server needs no files at run time: the page
 * (graphql/playground.html) and graphiql, react and react-dom as
 * scripts/fetch-playground.sh put them into build/playground from the npm
 * registry. The assembler's .incbin copies each file as it is. */

#define ASSET(sym, path)                                                                    \
    ".balign 16\n.global " #sym "\n" #sym ":\n.incbin \"" path "\"\n.global " #sym          \
    "_end\n" #sym "_end:\n.byte 0\n"

__asm__(".section .rodata\n"
        ASSET(playground_html, "graphql/playground.html")
        ASSET(playground_graphiql_js, "build/playground/graphiql.min.js")
        ASSET(playground_graphiql_css, "build/playground/graphiql.min.css")
        ASSET(playground_react_js, "build/playground/react.production.min.js")
        ASSET(playground_react_dom_js, "build/playground/react-dom.production.min.js")
        ".previous\n");
