#!/bin/sh
# run-blackbox.sh [PYTEST ARGS...] - runs the black-box suite of
# articles-rest (tests/blackbox) against SQLite and a throwaway PostgreSQL
# cluster.
#
# The cluster is started with tests/scripts/pg.sh in a temporary folder, its
# URL exported as TEST_PG_URL, and it is stopped and removed however the run
# ends. Extra arguments go to pytest (for example -k metrics -x). The exit
# status is pytest's.
#
# ARTICLES_BIN (default bin/) names the folder of the binary under test.
# TEST_BACKENDS=sqlite tests SQLite alone and starts no cluster.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

pg_script="$root/tests/scripts/pg.sh"
tmp=""
pgdir=""

cleanup() {
    if [ -n "$pgdir" ]; then
        sh "$pg_script" stop "$pgdir" >/dev/null 2>&1 || \
            echo "run-blackbox: could not stop the PostgreSQL cluster in $pgdir" >&2
    fi
    if [ -n "$tmp" ]; then
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case ",${TEST_BACKENDS:-sqlite,pg}," in
*,pg,*)
    if [ ! -f "$pg_script" ]; then
        echo "run-blackbox: $pg_script is missing; cannot start PostgreSQL" >&2
        echo "run-blackbox: (set TEST_BACKENDS=sqlite to test SQLite alone)" >&2
        exit 1
    fi
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/articles-blackbox.XXXXXX")
    # Run as root, pg.sh runs the cluster as `postgres`, which must be able
    # to reach the cluster's folder (mktemp makes it 0700) to stop it again.
    chmod 0755 "$tmp"
    pgdir="$tmp/pg"
    if ! url=$(sh "$pg_script" start "$pgdir"); then
        echo "run-blackbox: tests/scripts/pg.sh start failed" >&2
        exit 1
    fi
    url=$(printf '%s\n' "$url" | tail -n 1)
    if [ -z "$url" ]; then
        echo "run-blackbox: tests/scripts/pg.sh start printed no URL" >&2
        exit 1
    fi
    TEST_PG_URL=$url
    export TEST_PG_URL
    ;;
esac

status=0
python3 -m pytest -q tests/blackbox "$@" || status=$?
exit "$status"
