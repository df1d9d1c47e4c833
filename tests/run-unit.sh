#!/bin/sh
# run-unit.sh BIN... - runs each cmocka unit test binary and sums the results
# into one closing line. A throwaway PostgreSQL cluster is started for the
# store tests, so they run on both back ends.
set -u
here=$(cd "$(dirname "$0")" && pwd)
pgdir=$(mktemp -d)
url=$(sh "$here/scripts/pg.sh" start "$pgdir/cluster") || { echo "unit: cannot start PostgreSQL"; exit 1; }
trap 'sh "$here/scripts/pg.sh" stop "$pgdir/cluster" >/dev/null 2>&1; rm -rf "$pgdir"' EXIT INT TERM
export TEST_PG_URL="$url"
passed=0
failed=0
for t in "$@"; do
    if "$t"; then
        passed=$((passed + 1))
    else
        echo "unit: FAILED $t"
        failed=$((failed + 1))
    fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
