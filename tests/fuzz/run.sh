#!/bin/sh
# run.sh SECONDS BIN... - runs each libFuzzer target for SECONDS on a working
# copy of its seed corpus (tests/fuzz/corpus/NAME, kept in git; what the run
# finds goes to build/fuzz/corpus/NAME), then replays the seeds alone so a
# crash found once stays fixed. Prints one summary line per target (the
# figures of the campaign notes in tests/fuzz/README.md) and ends with one
# "N passed, N failed" line.
set -u
seconds=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(cd "$here/../.." && pwd)/build/fuzz/corpus
passed=0
failed=0

# summary NAME LOG SECONDS: "fuzz: NAME: cov ... ft ... corpus ... exec/s ... seconds ...
# findings ...", from libFuzzer's last status line and -print_final_stats output.
summary() {
    last=$(grep -E '^#[0-9]+.* cov: ' "$2" | tail -1)
    cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
    eps=$(grep 'stat::average_exec_per_sec' "$2" | tail -1 | awk '{print $2}')
    findings=$(grep -c 'Test unit written to' "$2")
    echo "fuzz: $1: cov ${cov:-?} ft ${ft:-?} corpus ${corp:-?} exec/s ${eps:-?}" \
        "seconds $3 findings $findings"
}

for bin in "$@"; do
    name=$(basename "$bin")
    seeds="$here/corpus/$name"
    mkdir -p "$work/$name" "$work/$name-crashes"
    echo "fuzz: $name for ${seconds}s"
    start=$(date +%s)
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/$name-crashes/" "$work/$name" "$seeds" > "$work/$name.log" 2>&1; then
        ran=$(($(date +%s) - start))
        if "$bin" -runs=0 "$seeds"/* >> "$work/$name.log" 2>&1; then
            grep -E "stat::number_of_executed_runs|cov:" "$work/$name.log" | tail -2
            summary "$name" "$work/$name.log" "$ran"
            passed=$((passed + 1))
            continue
        fi
    else
        ran=$(($(date +%s) - start))
    fi
    echo "fuzz: $name FAILED; its log: $work/$name.log"
    tail -40 "$work/$name.log"
    summary "$name" "$work/$name.log" "$ran"
    failed=$((failed + 1))
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
