#!/bin/sh
# embed.sh NAME FILE - writes a C file defining `const char NAME[]` with the
# bytes of FILE and `const unsigned long NAME_len`, so data files of schema/
# travel inside the binaries.
set -eu
name=$1
file=$2
echo "/* generated from $file by scripts/embed.sh; do not edit */"
echo "const char $name[] = {"
od -An -v -tx1 "$file" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
echo "0x00};"
echo "const unsigned long ${name}_len = sizeof $name - 1;"
