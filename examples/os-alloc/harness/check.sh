#!/bin/sh
# Checker: the share of expected lines the output has, in order.
# Usage: check.sh INPUT EXPECTED OUTPUT; prints "SCORE MESSAGE".
expected=$2 output=$3
total=$(wc -l < "$expected")
same=$(paste -d '\n' "$expected" "$output" | awk 'NR % 2 == 1 { e = $0; next } $0 == e { n++ } END { print n + 0 }')
if [ "$total" -eq 0 ]; then echo "1 nothing to check"; exit 0; fi
awk -v s="$same" -v t="$total" 'BEGIN { printf "%.4f %d of %d checksums right\n", s / t, s, t }'
