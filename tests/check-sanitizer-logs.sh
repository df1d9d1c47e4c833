#!/bin/sh
# check-sanitizer-logs.sh DIR - fails when any process of a sanitized test
# run wrote a report (AddressSanitizer, LeakSanitizer, UndefinedBehavior-
# Sanitizer) into DIR, and prints each. The SAN=1 build points every
# process there (ASAN_OPTIONS/UBSAN_OPTIONS log_path, set by the Makefile),
# so a leak or a bad access is caught also in a process whose exit status
# no test reads, such as one a test stops and forgets.
set -u
dir=$1
found=0
for f in "$dir"/*; do
    [ -f "$f" ] || continue
    found=$((found + 1))
    echo "==== sanitizer report $f"
    head -c 20000 "$f"
done
if [ "$found" -gt 0 ]; then
    echo "check-sanitizer-logs: $found report(s) in $dir" >&2
    exit 1
fi
echo "check-sanitizer-logs: no sanitizer reports"
