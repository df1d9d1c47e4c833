#!/bin/sh
# test_kafka_script.sh - the self-test of tests/scripts/kafka.sh: starts a
# real broker in a temporary directory, creates a topic with 3 partitions,
# produces 100 keyed messages with a header through kcat, reads them back
# (plainly and in a consumer group), stops the broker and checks that it is
# gone. Prints "kafka script: 1 passed, 0 failed" and exits 0 on success.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kafka=$here/kafka.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kafka-selftest.XXXXXX")
dir=$tmp/broker
topic=articles-selftest
n=100

cleanup() {
    "$kafka" stop "$dir" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "FAIL: $*" >&2
    echo "kafka script: 0 passed, 1 failed"
    exit 1
}

ms() { date +%s%3N; }

t0=$(ms)
bootstrap=$("$kafka" start "$dir") || fail "kafka.sh start"
t1=$(ms)
echo "broker up at $bootstrap in $((t1 - t0)) ms" >&2
echo "$bootstrap" | grep -qx '127\.0\.0\.1:[0-9][0-9]*' || fail "start printed '$bootstrap', not 127.0.0.1:PORT"
[ "$("$kafka" bootstrap "$dir")" = "$bootstrap" ] || fail "kafka.sh bootstrap disagrees"
pid=$(cat "$dir/kafka.pid")

"$kafka" topic "$dir" "$topic" 3 || fail "kafka.sh topic"
parts=$(kcat -b "$bootstrap" -L -t "$topic" -m 5 | grep -c 'partition [0-9]*, leader 1,') || true
[ "$parts" -eq 3 ] || fail "topic $topic has $parts partitions with a leader, not 3"
# Topics are never created by a mistyped name, even when a client asks.
kcat -b "$bootstrap" -L -t no-such-topic -m 5 -X allow.auto.create.topics=true >/dev/null 2>&1 || true
if kcat -b "$bootstrap" -L -m 5 | grep -q 'topic "no-such-topic"'; then
    fail "a topic was created automatically"
fi

# 100 keyed messages, each with two headers.
i=1
while [ "$i" -le "$n" ]; do
    echo "key-$i:value-$i"
    i=$((i + 1))
done >"$tmp/in"
timeout 30 kcat -b "$bootstrap" -P -t "$topic" -K : -H origin=selftest -H "run=$$" \
    -X acks=all -X message.timeout.ms=20000 <"$tmp/in" 2>"$tmp/produce.err" ||
    { cat "$tmp/produce.err" >&2; fail "kcat could not produce"; }

# Read back from the start of every partition until the end.
timeout 30 kcat -b "$bootstrap" -C -t "$topic" -o beginning -e -q \
    -f '%p|%k|%s|%h\n' >"$tmp/out" 2>"$tmp/consume.err" ||
    { cat "$tmp/consume.err" >&2; fail "kcat could not consume"; }
got=$(grep -c . "$tmp/out") || true
[ "$got" -eq "$n" ] || fail "consumed $got messages, not $n"
bad=$(grep -cv '^[0-2]|key-\([0-9]*\)|value-\1|origin=selftest,run='"$$"'$' "$tmp/out") || true
[ "$bad" -eq 0 ] || { head -n 5 "$tmp/out" >&2; fail "$bad messages lost their key, value or headers"; }
[ "$(cut -d'|' -f2 "$tmp/out" | sort -u | wc -l)" -eq "$n" ] || fail "keys repeat or are missing"
used=$(cut -d'|' -f1 "$tmp/out" | sort -u | wc -l)
[ "$used" -eq 3 ] || fail "100 keys went to $used partitions, not 3"
# A key always lands in the same partition: a second copy of key-7 follows.
echo "key-7:again" | timeout 30 kcat -b "$bootstrap" -P -t "$topic" -K : 2>/dev/null ||
    fail "kcat could not produce again"
p7=$(grep '|key-7|' "$tmp/out" | cut -d'|' -f1)
timeout 30 kcat -b "$bootstrap" -C -t "$topic" -p "$p7" -o -1 -e -q -f '%k %s\n' >"$tmp/last" 2>/dev/null ||
    fail "kcat could not read partition $p7"
[ "$(cat "$tmp/last")" = "key-7 again" ] || fail "key-7 moved away from partition $p7"

# A consumer group (the coordinator and the offsets topic) reads all 101.
timeout 40 kcat -b "$bootstrap" -G selftest-group -o beginning -e -q -f '%k\n' "$topic" \
    >"$tmp/group" 2>"$tmp/group.err" ||
    { cat "$tmp/group.err" >&2; fail "the consumer group could not consume"; }
got=$(grep -c . "$tmp/group") || true
[ "$got" -eq $((n + 1)) ] || fail "the consumer group read $got messages, not $((n + 1))"

"$kafka" stop "$dir" || fail "kafka.sh stop"
[ ! -e "$dir" ] || fail "kafka.sh stop left $dir"
if kill -0 "$pid" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)" != Z ]; then
    fail "the broker (pid $pid) still runs after stop"
fi

echo "kafka script: 1 passed, 0 failed"
