#!/bin/sh
# sync.sh - benchmarks of the sync daemon (bin/articles-sync) into a REST core
# on SQLite, with a real Kafka broker (tests/scripts/kafka.sh) and a throwaway
# PostgreSQL (tests/scripts/pg.sh), both started here and stopped on exit.
#
#   bulk  N source rows (~600 bytes of content, an author on half) carried end
#         to end by `init` then `run --once`: SQLite or PostgreSQL source,
#         direct or Kafka transport (a fresh topic each), each case with a
#         fresh source and a fresh REST core. Records/s = rows applied / wall
#         clock of `run --once`; the daemon's peak RSS and CPU (/usr/bin/time
#         -v), the CPU the REST core, PostgreSQL, the broker and the rest of
#         the machine spent meanwhile (/proc/PID/stat, /proc/stat), and the
#         REST core's time inside POST /articles/bulk (its /metrics): which
#         one is the bottleneck, and whether other jobs disturbed the run.
#         `verify` after each run.
#   lag   `run --follow --poll-interval-ms 100` while a writer changes the
#         SQLite source at a steady rate (half updates, half inserts), each
#         row titled with its write time, and a sampler polls the REST core
#         for when each write shows (bench/sync/lag.py): p50/p99/max lag, and
#         sync_backlog_changes from the daemon's /metrics as the writer stops.
#         Direct and Kafka. `verify` once caught up.
# Figures are printed beside their goals, not asserted; a failed run, or drift
# found by `verify`, exits 1. The table goes to stdout and to
# build/bench/sync-results.md.
#
# Settings: BENCH_SYNC_ROWS (rows of a bulk case, default 1000000),
# BENCH_SYNC_RATE (changes/s of the lag runs, 1000), BENCH_SYNC_SECONDS (their
# length, 20), BENCH_SYNC_CASES (default all: sqlite-direct sqlite-kafka
# pg-direct pg-kafka lag-direct lag-kafka), ARTICLES_BIN (bin; its programs
# are copied first, so a rebuild meanwhile changes nothing). A smoke run, under
# a minute: BENCH_SYNC_ROWS=2000 BENCH_SYNC_SECONDS=3.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ARTICLES_BIN:-$root/bin}
rows=${BENCH_SYNC_ROWS:-1000000}
rate=${BENCH_SYNC_RATE:-1000}
seconds=${BENCH_SYNC_SECONDS:-20}
cases=${BENCH_SYNC_CASES:-sqlite-direct sqlite-kafka pg-direct pg-kafka lag-direct lag-kafka}
helpers=$root/bench/sync
out=$root/build/bench
for v in "$rows" "$rate" "$seconds"; do
    case $v in '' | *[!0-9]* | 0) echo "bench sync: settings must be positive integers: $v" >&2; exit 2 ;; esac
done
for c in $cases; do
    case $c in sqlite-direct | sqlite-kafka | pg-direct | pg-kafka | lag-direct | lag-kafka) ;;
    *) echo "bench sync: unknown case in BENCH_SYNC_CASES: $c" >&2; exit 2 ;;
    esac
done
# The caller's settings of the programs would change what is measured.
unset SYNC_ONCE SYNC_FOLLOW SYNC_BATCH_SIZE SYNC_POLL_INTERVAL_MS SYNC_TRANSPORT KAFKA_PARTITIONS \
    METRICS_HOST METRICS_PORT REST_API_TOKEN PUSHGATEWAY_URL SYNC_TEXTFILE UPSTREAM_TIMEOUT_MS \
    LOG_LEVEL THREADS MAX_BODY_BYTES MAX_BULK_OPS 2>/dev/null || true
dir=$(mktemp -d)
# pg.sh runs PostgreSQL as the user postgres when we are root, and stops it
# through DIR/data: that user must be able to traverse our directory.
[ "$(id -u)" -ne 0 ] || chmod 711 "$dir"
mkdir -p "$out" "$dir/bin"
# Copies: a rebuild in bin/ during the bench must not change what is measured.
for p in articles-sync articles-rest; do
    [ -x "$bin/$p" ] || { echo "bench sync: no $bin/$p (make all)" >&2; exit 1; }
    cp -p "$bin/$p" "$dir/bin/"
done
built=$(date -u -r "$bin/articles-sync" '+%Y-%m-%d %H:%M:%S UTC')
bin=$dir/bin
hz=$(getconf CLK_TCK)
started=$(date +%s)
pids=""

die() {
    echo "bench sync: $*" >&2
    exit 1
}
track() { pids="$pids $1"; }
untrack() { pids=$(echo " $pids " | sed "s/ $1 / /"); }
# kill_tree PID: the process and its children (the command under /usr/bin/time).
kill_tree() {
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do kill "$c" 2>/dev/null || true; done
    kill "$1" 2>/dev/null || true
}
cleanup() {
    for p in $pids; do kill_tree "$p"; done
    wait 2>/dev/null || true
    [ ! -d "$dir/kafka" ] || sh "$root/tests/scripts/kafka.sh" stop "$dir/kafka" >/dev/null 2>&1 || true
    [ ! -d "$dir/pg" ] || sh "$root/tests/scripts/pg.sh" stop "$dir/pg" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_http URL PID LOG: until URL answers; PID dead or 10 s: the log, and fail.
wait_http() {
    i=0
    until python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -ge 100 ] || ! kill -0 "$2" 2>/dev/null; then
            tail -n 20 "$3" >&2
            die "$1 did not come up"
        fi
        sleep 0.1
    done
}
now() { date +%s.%N; }
# calc EXPR [FORMAT]: floating point arithmetic.
calc() { awk "BEGIN { printf \"${2:-%.1f}\", $1 }"; }
# cpu_ticks PID...: CPU time (user+system, with reaped children) of the
# processes and of their live children (PostgreSQL's backends), in ticks.
cpu_ticks() {
    t=0
    for p in "$@"; do
        for q in $p $(cat /proc/"$p"/task/*/children 2>/dev/null); do
            n=$(sed 's/.*) //' /proc/"$q"/stat 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }')
            t=$((t + ${n:-0}))
        done
    done
    echo "$t"
}
# busy_ticks, iowait_ticks: time the whole machine spent busy, and idle
# waiting for the disk, in ticks (/proc/stat).
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
iowait_ticks() { awk '/^cpu / { print $6 }' /proc/stat; }
stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    untrack "$1"
}
# field KEY FILE: the value of "KEY: value" (the daemon's summary, time -v).
field() { sed -n "s/^[[:space:]]*$1: *//p" "$2" | head -n 1 | sed 's/ s$//'; }
# rfield KEY FILE: KEY=value of a helper's RESULT line.
rfield() { grep '^RESULT' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
mib() { calc "$1 / 1024" %.1f; }
# pct SECONDS: "S s (P%)" of the run's wall clock, or - when not measured.
pct() { if [ "$1" = - ]; then echo -; else echo "$1 s ($(calc "100 * $1 / $wall" %.0f)%)"; fi; }

# --- the broker and PostgreSQL, started side by side --------------------------
need() { case " $cases " in *"$1"*) return 0 ;; esac; return 1; }
t0=$(now)
kafka_job="" pg_job="" brokers="" pg_url=""
if need kafka; then
    # Kafka's own segment size, as deployed: the test broker's small ones
    # roll every megabyte, which doubles the broker's CPU per event.
    KAFKA_SEGMENT_BYTES=1073741824 \
        sh "$root/tests/scripts/kafka.sh" start "$dir/kafka" >"$dir/kafka.addr" 2>"$dir/kafka.err" &
    kafka_job=$!
    track $kafka_job
fi
if need pg-; then
    sh "$root/tests/scripts/pg.sh" start "$dir/pg" >"$dir/pg.url" 2>"$dir/pg.err" &
    pg_job=$!
    track $pg_job
fi
if [ -n "$kafka_job" ]; then
    wait $kafka_job || { cat "$dir/kafka.err" >&2; die "the Kafka broker did not start"; }
    untrack $kafka_job
    brokers=$(cat "$dir/kafka.addr")
    kafka_pid=$(cat "$dir/kafka/kafka.pid")
fi
if [ -n "$pg_job" ]; then
    wait $pg_job || { cat "$dir/pg.err" >&2; die "PostgreSQL did not start"; }
    untrack $pg_job
    pg_url=$(cat "$dir/pg.url")
    pg_pid=$(head -n 1 "$dir/pg/data/postmaster.pid")
fi
services_s=""
[ -z "$kafka_job$pg_job" ] || services_s=$(calc "$(now) - $t0")

# --- pieces of a case ---------------------------------------------------------

# make_source KIND NAME COUNT: a fresh source with rows 1..COUNT -> src_url.
make_source() {
    case $1 in
    sqlite)
        python3 "$helpers/fill.py" "$dir/$2.src.db" "$3"
        src_url=sqlite:$dir/$2.src.db
        ;;
    pg)
        db=bench_$(echo "$2" | tr -c 'a-z0-9\n' _)
        psql -q -X "$pg_url" -c "CREATE DATABASE $db"
        src_url=${pg_url%/*}/$db
        psql -q -X -v ON_ERROR_STOP=1 "$src_url" <<EOF
CREATE TABLE articles (id bigint PRIMARY KEY, title text, content text, author text,
                       created_at timestamptz DEFAULT now(), updated_at timestamptz);
INSERT INTO articles (id, title, content, author)
SELECT i, 'title ' || i,
       'article ' || i || ': ' || substr(repeat('lorem ipsum dolor sit amet ' || (i % 1000) || ' ', 30), 1, 600),
       CASE WHEN i % 2 = 0 THEN 'author ' || (i % 100) END
FROM generate_series(1, $3) AS i;
ANALYZE articles;
EOF
        ;;
    esac
}
drop_source() {
    case $src_url in
    sqlite:*) rm -f "${src_url#sqlite:}" "${src_url#sqlite:}-wal" "${src_url#sqlite:}-shm" ;;
    *) psql -q -X "$pg_url" -c "DROP DATABASE IF EXISTS ${src_url##*/}" ;;
    esac
}
# start_rest NAME: a REST core on a fresh SQLite file -> rest_pid, rest_url.
start_rest() {
    rest_port=$(free_port)
    "$bin/articles-rest" --port "$rest_port" --database-url "sqlite:$dir/$1.rest.db" \
        --log-level warn >"$dir/$1.rest.log" 2>&1 &
    rest_pid=$!
    track $rest_pid
    rest_url=http://127.0.0.1:$rest_port
    wait_http "$rest_url/health" $rest_pid "$dir/$1.rest.log"
}
stop_rest() {
    stop_pid $rest_pid
    rm -f "$dir/$1.rest.db" "$dir/$1.rest.db-wal" "$dir/$1.rest.db-shm"
}
# case_env NAME TRANSPORT: the settings of articles-sync for the case, in the
# environment (so a background $! is the program itself); Kafka gets a topic
# and group of its own.
case_env() {
    b=""
    [ "$2" = direct ] || b=$brokers
    export SOURCE_DATABASE_URL="$src_url" REST_API_URL="$rest_url" KAFKA_BROKERS="$b" \
        KAFKA_TOPIC="bench-sync-$1-$$" SYNC_GROUP="bench-sync-$1-$$" \
        DEAD_LETTER_FILE="$dir/$1.dead-letters.jsonl" LOG_FORMAT=text
}
init_source() { # NAME TRANSPORT
    t0=$(now)
    case_env "$1" "$2"
    "$bin/articles-sync" init >"$dir/$1.init.out" 2>&1 ||
        { cat "$dir/$1.init.out" >&2; die "$1: articles-sync init failed"; }
    init_s=$(calc "$(now) - $t0")
}
verify_once() { # NAME
    "$bin/articles-sync" verify >"$dir/$1.verify" 2>&1
}
fail_verify() {
    tail -n 20 "$dir/$1.verify" >&2
    die "$1: articles-sync verify found drift (or failed)"
}

# --- bulk: init, then run --once ----------------------------------------------
bulk_case() { # NAME KIND TRANSPORT
    name=$1 kind=$2 transport=$3
    echo "bench sync: $name: filling the source with $rows rows" >&2
    t0=$(now)
    make_source "$kind" "$name" "$rows"
    fill_s=$(calc "$(now) - $t0")
    start_rest "$name"
    init_source "$name" "$transport"
    echo "bench sync: $name: run --once" >&2
    rest0=$(cpu_ticks $rest_pid)
    db0=0 broker0=0
    [ "$kind" = sqlite ] || db0=$(cpu_ticks "$pg_pid")
    [ "$transport" = direct ] || broker0=$(cpu_ticks "$kafka_pid")
    busy0=$(busy_ticks) iowait0=$(iowait_ticks)
    t0=$(now)
    /usr/bin/time -v -o "$dir/$name.time" "$bin/articles-sync" run --once \
        >"$dir/$name.run" 2>"$dir/$name.log" &
    job=$!
    track $job
    rc=0
    wait $job || rc=$?
    untrack $job
    wall=$(calc "$(now) - $t0" %.3f)
    busy=$(calc "($(busy_ticks) - $busy0) / $hz")
    iowait=$(calc "($(iowait_ticks) - $iowait0) / $hz")
    rest_cpu=$(calc "($(cpu_ticks $rest_pid) - $rest0) / $hz")
    db_cpu=- broker_cpu=-
    [ "$kind" = sqlite ] || db_cpu=$(calc "($(cpu_ticks "$pg_pid") - $db0) / $hz")
    [ "$transport" = direct ] || broker_cpu=$(calc "($(cpu_ticks "$kafka_pid") - $broker0) / $hz")
    if [ $rc -ne 0 ]; then
        cat "$dir/$name.run" >&2
        tail -n 20 "$dir/$name.log" >&2
        die "$name: articles-sync run --once exited $rc"
    fi
    nread=$(field "changes read" "$dir/$name.run")
    applied=$(field applied "$dir/$name.run")
    dead=$(field dead-lettered "$dir/$name.run")
    dtime=$(field time "$dir/$name.run")
    if [ "$applied" != "$rows" ] || [ "$dead" != 0 ]; then
        cat "$dir/$name.run" >&2
        die "$name: $rows rows in the source, but applied: $applied, dead-lettered: $dead"
    fi
    rss=$(field "Maximum resident set size (kbytes)" "$dir/$name.time")
    # How the rows reached the REST core: requests, rows each, time spent in them.
    curl -sf "$rest_url/metrics" >"$dir/$name.rest-metrics" || die "$name: GET /metrics of the REST core failed"
    bulks=$(awk '/^http_requests_total[{].*route="\/articles\/bulk"/ { n += $NF } END { print n + 0 }' "$dir/$name.rest-metrics")
    in_rest=$(awk '/^http_request_duration_seconds_sum[{].*route="\/articles\/bulk"/ { n += $NF } END { printf "%.1f", n }' "$dir/$name.rest-metrics")
    sync_cpu=$(calc "$(field "User time (seconds)" "$dir/$name.time") + $(field "System time (seconds)" "$dir/$name.time")")
    # Whatever else ran on the machine meanwhile (other jobs disturb the figures).
    other=$(calc "$busy - $sync_cpu - $rest_cpu - $(echo "$db_cpu" | tr - 0) - $(echo "$broker_cpu" | tr - 0)")
    other=$(calc "$other < 0 ? 0 : $other")
    t0=$(now)
    verify_once "$name" || fail_verify "$name"
    verify_s=$(calc "$(now) - $t0")
    stop_rest "$name"
    drop_source
    goal=">= 50000/s"
    [ "$transport" = direct ] || goal=">= 30000/s"
    echo "| $kind source, $transport | $nread | $applied | $wall ($dtime) | $(calc "$applied / $wall" %.0f) | $goal | $(mib "$rss") | $(pct "$sync_cpu") | $(pct "$rest_cpu") | $(pct "$db_cpu") | $(pct "$broker_cpu") | $(pct "$other"); iowait $iowait s | $bulks × $(calc "$applied / ($bulks > 0 ? $bulks : 1)" %.0f), $(pct "$in_rest") | $fill_s / $init_s / $verify_s | in sync |" \
        >>"$dir/bulk.md"
}

# --- lag: run --follow under a steady writer ----------------------------------
lag_case() { # NAME TRANSPORT
    name=$1 transport=$2
    seed=$((rows < 10000 ? rows : 10000))
    make_source sqlite "$name" "$seed"
    start_rest "$name"
    init_source "$name" "$transport"
    mport=$(free_port)
    "$bin/articles-sync" run --follow --poll-interval-ms 100 \
        --metrics-port "$mport" >"$dir/$name.log" 2>&1 &
    sync_pid=$!
    track $sync_pid
    wait_http "http://127.0.0.1:$mport/health" $sync_pid "$dir/$name.log"
    python3 "$helpers/lag.py" wait-count "$rest_url" "$seed" 300 ||
        { tail -n 20 "$dir/$name.log" >&2; die "$name: the $seed seeded rows did not arrive"; }
    echo "bench sync: $name: $rate changes/s for $seconds s" >&2
    python3 "$helpers/lag.py" sample "$rest_url" $((seconds + 60)) >"$dir/$name.sample" 2>&1 &
    sampler=$!
    track $sampler
    sleep 0.5
    python3 "$helpers/lag.py" write "${src_url#sqlite:}" "$rate" "$seconds" "$seed" \
        >"$dir/$name.write" 2>&1 || { cat "$dir/$name.write" >&2; die "$name: the writer failed"; }
    curl -sf "http://127.0.0.1:$mport/metrics" >"$dir/$name.metrics" ||
        die "$name: GET /metrics of the daemon failed"
    backlog=$(sed -n 's/^sync_backlog_changes //p' "$dir/$name.metrics")
    klag=$(awk '/^sync_consumer_lag[{ ]/ { n += $NF } END { print n + 0 }' "$dir/$name.metrics")
    wait $sampler || { cat "$dir/$name.sample" >&2; die "$name: the sampler failed"; }
    untrack $sampler
    # In flight when the sampler stopped (Kafka's partitions apply in any
    # order): a few seconds to converge before drift counts.
    i=0
    until verify_once "$name"; do
        i=$((i + 1))
        [ $i -lt 15 ] || fail_verify "$name"
        sleep 1
    done
    rss=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$sync_pid/status")
    kill $sync_pid
    rc=0
    wait $sync_pid || rc=$?
    untrack $sync_pid
    [ $rc -eq 0 ] || { tail -n 20 "$dir/$name.log" >&2; die "$name: run --follow exited $rc"; }
    stop_rest "$name"
    drop_source
    written=$(rfield written "$dir/$name.write")
    w_s=$(rfield seconds "$dir/$name.write")
    s=$dir/$name.sample
    gaps=$(rfield gaps "$s")
    [ "$gaps" = 0 ] || gaps="$gaps (pages of 1000 all new: writes may be unseen)"
    [ "$transport" = direct ] || backlog="$backlog (sync_consumer_lag, all partitions: $klag)"
    echo "| $transport | $(calc "($written - 1) / $w_s" %.0f)/s for $w_s s | $written | $(rfield observed "$s") | $(rfield p50_ms "$s") | $(rfield p99_ms "$s") | $(rfield max_ms "$s") | < 1000 | ${backlog:-?} | $(mib "$rss") | $gaps |" \
        >>"$dir/lag.md"
}

for c in $cases; do
    case $c in
    sqlite-direct) bulk_case "$c" sqlite direct ;;
    sqlite-kafka) bulk_case "$c" sqlite kafka ;;
    pg-direct) bulk_case "$c" pg direct ;;
    pg-kafka) bulk_case "$c" pg kafka ;;
    lag-direct) lag_case "$c" direct ;;
    lag-kafka) lag_case "$c" kafka ;;
    esac
done

{
    if [ -f "$dir/bulk.md" ]; then
        echo "| $rows rows, init + run --once | changes read | applied | wall s (daemon's time) | records/s | goal | daemon peak RSS MiB (goal < 64) | CPU: daemon | REST core | PostgreSQL | Kafka broker | other processes | POST /articles/bulk: requests × rows, time inside | fill / init / verify s | verify |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        cat "$dir/bulk.md"
        echo
    fi
    if [ -f "$dir/lag.md" ]; then
        echo "| run --follow, poll 100 ms: transport | writes (half updates) | written | seen at REST | lag p50 ms | p99 ms | max ms | goal ms | sync_backlog_changes as the writer stopped | daemon peak RSS MiB | sampler gaps |"
        echo "|---|---|---|---|---|---|---|---|---|---|---|"
        cat "$dir/lag.md"
        echo
    fi
    echo "CPU: seconds spent during run --once (share of its wall clock; $(nproc) cores; other processes: the rest of the machine, and the machine's time idle waiting for the disk; high, they disturb the figures). Time inside: the REST core's own request durations; near 100%, the REST core is the bottleneck."
    echo "REST core on SQLite, default settings; sources: SQLite (WAL) or PostgreSQL $(psql --version | awk '{ print $3 }'); Kafka: 1 local broker (1 GiB segments, its default), the daemon's default partitions.${services_s:+ Broker and PostgreSQL started in $services_s s.}"
    echo "bin/articles-sync built $built; $(date -u +%Y-%m-%d), whole bench $(($(date +%s) - started)) s."
} | tee "$out/sync-results.md"
