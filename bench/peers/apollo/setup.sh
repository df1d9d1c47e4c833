#!/bin/sh
# setup.sh - installs the Apollo benchmark peer's npm dependencies outside the
# repository and prints the path of a runnable copy of server.mjs.
#
#   server=$(sh bench/peers/apollo/setup.sh)
#   NODE_ENV=production PORT=4100 REST_API_URL=http://127.0.0.1:5000 \
#       SCHEMA_FILE="$PWD/schema/articles.graphql" node "$server"
#
# The modules go to ${XDG_CACHE_HOME:-$HOME/.cache}/articles/apollo-peer/HASH,
# HASH being the sha256 of package-lock.json, with `npm ci` (so exactly the
# locked versions), once: a later run with the same lock only refreshes the
# copy of server.mjs there. ES modules ignore NODE_PATH, hence the copy beside
# node_modules; that copy cannot find the schema relative to itself, so give
# it SCHEMA_FILE. Only the path is printed on stdout; npm's output goes to
# stderr. Needs node and npm (Debian: apt-get install nodejs npm).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
hash=$(sha256sum "$here/package-lock.json" | cut -c1-16)
base="${XDG_CACHE_HOME:-$HOME/.cache}/articles/apollo-peer"
dest="$base/$hash"

if [ ! -f "$dest/.installed" ]; then
    mkdir -p "$base"
    tmp=$(mktemp -d "$base/.install.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 1' INT TERM
    cp "$here/package.json" "$here/package-lock.json" "$tmp/"
    (cd "$tmp" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
        --loglevel=error >&2)
    touch "$tmp/.installed"
    if [ -f "$dest/.installed" ]; then
        rm -rf "$tmp"       # another setup finished first: keep its tree
    else
        rm -rf "$dest"      # a leftover that never completed
        mv "$tmp" "$dest"
    fi
    trap - EXIT INT TERM
fi

# Always refresh the copy (cheap), atomically, so edits to server.mjs count.
cp "$here/server.mjs" "$dest/server.mjs.$$"
mv "$dest/server.mjs.$$" "$dest/server.mjs"
echo "$dest/server.mjs"
