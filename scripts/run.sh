#!/bin/sh
# run.sh - runs the system on its embedded default: the REST core on SQLite
# (./articles.db, port 5000) and the GraphQL server in front of it (port
# 4000). Ctrl-C stops both.
set -eu
bin=${ARTICLES_BIN:-bin}
"$bin/articles-rest" &
rest=$!
trap 'kill $rest 2>/dev/null; wait $rest 2>/dev/null' EXIT INT TERM
"$bin/articles-graphql" --rest-api-url http://127.0.0.1:5000
