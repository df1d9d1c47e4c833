#!/bin/sh
# fetch-playground.sh DEST - puts the files of the GraphiQL playground into
# DEST: graphiql, react and react-dom from the npm registry, at pinned
# versions, each package checked against the sha512 the registry published.
# The packages are cached outside the repository, so later builds work
# offline; the server then serves the files itself (no CDN).
set -eu
dest=$1
cache=${XDG_CACHE_HOME:-$HOME/.cache}/articles/playground
mkdir -p "$cache" "$dest"

# fetch NAME VERSION INTEGRITY: the package's tarball in the cache, verified.
fetch() {
    tgz="$cache/$1-$2.tgz"
    if [ ! -f "$tgz" ]; then
        (cd "$cache" && npm pack --silent "$1@$2" > /dev/null)
    fi
    got=$(python3 -c 'import base64, hashlib, sys
print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tgz")
    if [ "$got" != "$3" ]; then
        rm -f "$tgz"
        echo "fetch-playground: $1-$2 does not match its published integrity" >&2
        exit 1
    fi
}

# extract NAME VERSION PATH FILE: one file of a cached package into DEST.
extract() {
    tar -xzf "$cache/$1-$2.tgz" -O "package/$3" > "$dest/$4.tmp"
    mv "$dest/$4.tmp" "$dest/$4"
}

fetch graphiql 3.8.3 sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==
fetch react 18.3.1 sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==
fetch react-dom 18.3.1 sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==
extract graphiql 3.8.3 graphiql.min.js graphiql.min.js
extract graphiql 3.8.3 graphiql.min.css graphiql.min.css
extract react 18.3.1 umd/react.production.min.js react.production.min.js
extract react-dom 18.3.1 umd/react-dom.production.min.js react-dom.production.min.js
