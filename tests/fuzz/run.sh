#!/bin/sh
# run.sh SECONDS BIN... - runs each libFuzzer target for SECONDS on a working
# copy of its seed corpus (tests/fuzz/corpus/NAME, kept in git; what the run
# finds goes to build/fuzz/corpus/NAME), then replays the seeds alone so a
# crash found once stays fixed. Ends with one "N passed, N failed" line.
set -u
seconds=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(cd "$here/../.." && pwd)/build/fuzz/corpus
passed=0
failed=0
for bin in "$@"; do
    name=$(basename "$bin")
    seeds="$here/corpus/$name"
    mkdir -p "$work/$name" "$work/$name-crashes"
    echo "fuzz: $name for ${seconds}s"
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/$name-crashes/" "$work/$name" "$seeds" > "$work/$name.log" 2>&1 &&
        "$bin" -runs=0 "$seeds"/* >> "$work/$name.log" 2>&1; then
        grep -E "stat::number_of_executed_runs|cov:" "$work/$name.log" | tail -2
        passed=$((passed + 1))
    else
        echo "fuzz: $name FAILED; its log: $work/$name.log"
        tail -40 "$work/$name.log"
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
