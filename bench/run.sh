#!/bin/sh
# run.sh - benchmarks of the REST core (`make bench`): wrk against
# bin/articles-rest on SQLite and, in the same run, against nginx answering a
# fixed 200, the baseline the figures are compared with.
#
#   GET /articles/{id}   10k seeded articles, random ids, keep-alive
#   POST /articles       one article per request
#   POST /articles/bulk  1000 upserts per request
#   GraphQL getArticle   through bin/articles-graphql: 1 and 10 aliased fields
#   the same through a Node.js Apollo Server with RESTDataSource (bench/peers/apollo)
#   GET /articles/{id} through forwarding proxies with no GraphQL: nginx, and
#   bench/peers/proxy on libmicrohttpd + libcurl (the floor of any gateway
#   built on them) and on libmicrohttpd + a hand-written client
# Then each server's peak resident memory (VmHWM) after all of it.
#
# Settings: BENCH_DURATION (seconds per run, default 10), BENCH_CONNECTIONS
# (64), BENCH_THREADS (wrk threads, 2), ARTICLES_BIN (bin), BENCH_PROXY (the
# built bench/peers/proxy; `make bench` passes it).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ARTICLES_BIN:-$root/bin}
duration=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-64}
wthreads=${BENCH_THREADS:-2}
export BENCH_DIR="$root/bench"
dir=$(mktemp -d)
out="$root/build/bench"
mkdir -p "$out"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cleanup() {
    [ -n "${gql_pid:-}" ] && kill "$gql_pid" 2>/dev/null
    [ -n "${apollo_pid:-}" ] && kill "$apollo_pid" 2>/dev/null
    [ -n "${rest_pid:-}" ] && kill "$rest_pid" 2>/dev/null
    [ -n "${nginx_pid:-}" ] && kill "$nginx_pid" 2>/dev/null
    [ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

wait_http() {
    i=0
    until python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 100 ] || { echo "bench: $1 did not come up" >&2; exit 1; }
        sleep 0.1
    done
}

# wrk URL SCRIPT -> prints the RESULT line
run_wrk() {
    wrk -t"$wthreads" -c"$conns" -d"${duration}s" --latency -s "$2" "$1" > "$dir/wrk.out" 2>&1 ||
        { cat "$dir/wrk.out" >&2; exit 1; }
    grep '^RESULT' "$dir/wrk.out"
}
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# --- the baseline: nginx with a fixed answer ---
nginx_port=$(free_port)
mkdir -p "$dir/nginx"
sed "s|@DIR@|$dir/nginx|g; s|@PORT@|$nginx_port|g" "$root/bench/nginx.conf.in" > "$dir/nginx/nginx.conf"
nginx -c "$dir/nginx/nginx.conf" -e "$dir/nginx/nginx-error.log" &
nginx_pid=$!
wait_http "http://127.0.0.1:$nginx_port/"
nginx_get=$(run_wrk "http://127.0.0.1:$nginx_port/" "$root/bench/report.lua")
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""

# --- the REST core on SQLite with 10k articles ---
rest_port=$(free_port)
"$bin/articles-rest" --port "$rest_port" --database-url "sqlite:$dir/bench.db" \
    --log-level warn --max-connections 4096 &
rest_pid=$!
wait_http "http://127.0.0.1:$rest_port/health"
python3 "$root/bench/seed.py" "http://127.0.0.1:$rest_port" 10000

export BENCH_IDS=10000 BENCH_FIRST_ID=1
rest_get=$(run_wrk "http://127.0.0.1:$rest_port" "$root/bench/get.lua")
rest_post=$(run_wrk "http://127.0.0.1:$rest_port/articles" "$root/bench/post.lua")
rest_bulk=$(run_wrk "http://127.0.0.1:$rest_port" "$root/bench/bulk.lua")
rss_kib=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$rest_pid/status")

# --- the GraphQL server in front of it ---
gql_port=$(free_port)
"$bin/articles-graphql" --port "$gql_port" --rest-api-url "http://127.0.0.1:$rest_port" \
    --log-level warn --max-connections 4096 &
gql_pid=$!
wait_http "http://127.0.0.1:$gql_port/health"
gql_one=$(run_wrk "http://127.0.0.1:$gql_port" "$root/bench/graphql.lua")
gql_ten=$(BENCH_ALIASES=10 run_wrk "http://127.0.0.1:$gql_port" "$root/bench/graphql.lua")
# Latency of one client alone: what the aliases cost, without queueing.
saved="$conns $wthreads"
conns=1 wthreads=1
gql_one_c1=$(run_wrk "http://127.0.0.1:$gql_port" "$root/bench/graphql.lua")
gql_ten_c1=$(BENCH_ALIASES=10 run_wrk "http://127.0.0.1:$gql_port" "$root/bench/graphql.lua")
set -- $saved
conns=$1 wthreads=$2
gql_rss_kib=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$gql_pid/status")
kill "$gql_pid"; wait "$gql_pid" 2>/dev/null || true; gql_pid=""

# --- forwarding proxies without GraphQL over the same REST core ---
# What forwarding alone costs: the gateway's figure cannot pass the first
# of these, whatever its GraphQL engine does.
proxy_bin=${BENCH_PROXY:-$root/build/release/bench/proxy}
[ -x "$proxy_bin" ] || { echo "bench: $proxy_bin is not built (make bench builds it)" >&2; exit 1; }
proxy_threads=$(( $(nproc) / 2 > 1 ? $(nproc) / 2 : 1 ))
proxy_run() {
    proxy_port=$(free_port)
    "$proxy_bin" "$proxy_port" "$rest_port" "$1" "$proxy_threads" &
    proxy_pid=$!
    wait_http "http://127.0.0.1:$proxy_port/articles/1"
    run_wrk "http://127.0.0.1:$proxy_port" "$root/bench/get.lua"
    kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true; proxy_pid=""
}
proxy_curl=$(proxy_run curl)
proxy_plain=$(proxy_run plain)
ngp_port=$(free_port)
mkdir -p "$dir/nginx-proxy"
sed "s|@DIR@|$dir/nginx-proxy|g; s|@PORT@|$ngp_port|g; s|@UPSTREAM@|$rest_port|g" \
    "$root/bench/nginx-proxy.conf.in" > "$dir/nginx-proxy/nginx.conf"
nginx -c "$dir/nginx-proxy/nginx.conf" -e "$dir/nginx-proxy/nginx-error.log" &
nginx_pid=$!
wait_http "http://127.0.0.1:$ngp_port/articles/1"
nginx_proxy=$(run_wrk "http://127.0.0.1:$ngp_port" "$root/bench/get.lua")
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""

# --- the peer: Apollo Server 4 + RESTDataSource over the same REST core ---
apollo_port=$(free_port)
apollo_server=$(sh "$root/bench/peers/apollo/setup.sh")
NODE_ENV=production PORT=$apollo_port REST_API_URL="http://127.0.0.1:$rest_port" \
    SCHEMA_FILE="$root/schema/articles.graphql" node "$apollo_server" > "$dir/apollo.log" 2>&1 &
apollo_pid=$!
i=0
until curl -sf -o /dev/null -H 'Content-Type: application/json' \
    -d '{"query":"{ __typename }"}' "http://127.0.0.1:$apollo_port/graphql"; do
    i=$((i + 1))
    [ $i -lt 200 ] || { cat "$dir/apollo.log" >&2; echo "bench: the Apollo peer did not come up" >&2; exit 1; }
    sleep 0.1
done
# Node compiles its hot paths during the first seconds: warm it up unmeasured.
saved_duration=$duration
duration=3
run_wrk "http://127.0.0.1:$apollo_port" "$root/bench/graphql.lua" > /dev/null
duration=$saved_duration
apollo_one=$(run_wrk "http://127.0.0.1:$apollo_port" "$root/bench/graphql.lua")
apollo_rss_kib=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$apollo_pid/status")
kill "$apollo_pid"; wait "$apollo_pid" 2>/dev/null || true; apollo_pid=""

ng_rps=$(field "$nginx_get" rps)
get_rps=$(field "$rest_get" rps)
ratio=$(python3 -c "print(f'{100*$get_rps/$ng_rps:.0f}')")
gql_ratio=$(python3 -c "print(f'{100*$(field "$gql_one" rps)/$get_rps:.0f}')")
apollo_rps=$(field "$apollo_one" rps)
vs_apollo=$(python3 -c "print(f'{$(field "$gql_one" rps)/max($apollo_rps, 0.001):.1f}')")
alias_cost=$(python3 -c "print(f'{$(field "$gql_ten_c1" p50_ms)/$(field "$gql_one_c1" p50_ms):.1f}')")
bulk_rows=$(python3 -c "print(int($(field "$rest_bulk" rps) * 1000))")
{
    echo "| measurement | requests/s | p50 ms | p99 ms | errors | goal |"
    echo "|---|---|---|---|---|---|"
    echo "| nginx fixed 200 (baseline) | $ng_rps | $(field "$nginx_get" p50_ms) | $(field "$nginx_get" p99_ms) | $(field "$nginx_get" errors) | |"
    echo "| GET /articles/{id} | $get_rps ($ratio% of nginx) | $(field "$rest_get" p50_ms) | $(field "$rest_get" p99_ms) | $(field "$rest_get" errors) | >= 50% of nginx, p99 < 5 ms |"
    echo "| POST /articles | $(field "$rest_post" rps) | $(field "$rest_post" p50_ms) | $(field "$rest_post" p99_ms) | $(field "$rest_post" errors) | >= 20000/s |"
    echo "| POST /articles/bulk (1000 per request) | $(field "$rest_bulk" rps) = $bulk_rows articles/s | $(field "$rest_bulk" p50_ms) | $(field "$rest_bulk" p99_ms) | $(field "$rest_bulk" errors) | >= 100000 articles/s |"
    echo "| GraphQL { getArticle(id) { id title } } | $(field "$gql_one" rps) ($gql_ratio% of REST GET) | $(field "$gql_one" p50_ms) | $(field "$gql_one" p99_ms) | $(field "$gql_one" errors) | >= 40% of REST, p99 < 10 ms |"
    for p in "nginx as a reverse proxy:$nginx_proxy" \
             "proxy, libmicrohttpd + libcurl, no GraphQL (the floor):$proxy_curl" \
             "proxy, libmicrohttpd + hand-written client, no GraphQL:$proxy_plain"; do
        r=${p#*:}
        echo "| GET /articles/{id} through ${p%%:*} | $(field "$r" rps) ($(python3 -c "print(f'{100*$(field "$r" rps)/$get_rps:.0f}')")% of REST GET) | $(field "$r" p50_ms) | $(field "$r" p99_ms) | $(field "$r" errors) | |"
    done
    echo "| GraphQL, 10 aliased getArticle | $(field "$gql_ten" rps) | $(field "$gql_ten" p50_ms) | $(field "$gql_ten" p99_ms) | $(field "$gql_ten" errors) | |"
    echo "| one client: 10 aliases vs 1 (p50) | ${alias_cost}x ($(field "$gql_ten_c1" p50_ms) vs $(field "$gql_one_c1" p50_ms) ms) | | | | < 3x |"
    echo "| Apollo Server 4 + RESTDataSource, same query | $apollo_rps (ours: ${vs_apollo}x) | $(field "$apollo_one" p50_ms) | $(field "$apollo_one" p99_ms) | $(field "$apollo_one" errors) | ours >= 10x |"
    echo
    echo "Peak resident memory: articles-rest $((rss_kib / 1024)) MiB ($rss_kib KiB; goal < 32 MiB), articles-graphql $((gql_rss_kib / 1024)) MiB ($gql_rss_kib KiB; goal < 32 MiB), Apollo peer $((apollo_rss_kib / 1024)) MiB."
    echo "wrk: $wthreads threads, $conns connections, ${duration}s per run; $(nproc) cores; $(date -u +%Y-%m-%d)."
} | tee "$out/results.md"

# A run with failed requests measured something else than it claims.
for r in "$nginx_get" "$rest_get" "$rest_post" "$rest_bulk" "$gql_one" "$gql_ten" "$gql_one_c1" \
    "$gql_ten_c1" "$apollo_one" "$proxy_curl" "$proxy_plain" "$nginx_proxy"; do
    if [ "$(field "$r" errors)" != 0 ]; then
        echo "bench: requests failed during a run: $r" >&2
        exit 1
    fi
done
