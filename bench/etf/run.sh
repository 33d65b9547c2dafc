#!/usr/bin/env bash
# run.sh: the ETF benchmark (not a test).  Builds the release preset, then
# in the same run measures edist (streaming and tree APIs), libei and the
# BEAM (term_to_binary/binary_to_term) on the same items, and counts
# instructions with callgrind for edist and libei.
#
# Usage: bench/etf/run.sh [--no-callgrind]
# Output: two tables (wall clock, instructions) in Markdown on stdout.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target bench_etf >/dev/null
bin=build/release/bench/etf/bench_etf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" --dump "$tmp" >/dev/null
"$bin" >"$tmp/c.txt"
timeout 300 escript bench/etf/beam_etf.escript "$tmp" >"$tmp/beam.txt"

echo "### Wall clock (ns per term, best of 7 interleaved batches; MB/s of the encoding)"
echo
echo "x = libei time / edist streaming time (> 1: edist faster); x gather = libei / edist gathering writer."
echo
echo "| item | bytes | dec edist | dec tree | dec libei | dec BEAM | x | enc edist | enc tree | enc libei | enc BEAM | x | enc gather | x gather | MB/s dec/enc edist |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
awk 'NR==FNR { bd[$1] = $2; be[$1] = $3; next }
     /^MBps/ { mb[$2] = $4 "/" $8; next }
     /^item/ { next }
     { line[++n] = $0; name[n] = $1 }
     END {
       for (i = 1; i <= n; i++) {
         split(line[i], f, " ")
         printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
           f[1], f[2], f[4], f[5], f[6], bd[f[1]], f[7], f[10], f[11], f[12], be[f[1]], f[13], f[16], f[17], mb[f[1]]
       }
     }' "$tmp/beam.txt" "$tmp/c.txt"

[ "${1:-}" = "--no-callgrind" ] && exit 0
command -v valgrind >/dev/null || { echo "valgrind missing: no instruction counts"; exit 0; }
echo
echo "### Instructions per term (valgrind --tool=callgrind, measured loop only)"
echo
echo "| item | dec edist | dec tree | dec libei | x | enc edist | enc tree | enc libei | x | enc gather | x gather |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
count() { # item impl op runs
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
        --toggle-collect=bench_loop "$bin" --count "$1" "$2" "$3" "$4" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
for item in $(awk '!/^item/ && !/^MBps/ {print $1}' "$tmp/c.txt"); do
    runs=200
    case $item in int_list_10k | map_1k | binary_64k | floats_1k) runs=20 ;; esac
    row="| $item"
    for op in dec enc; do
        e=$(count "$item" edist $op $runs)
        t=$(count "$item" tree $op $runs)
        i=$(count "$item" ei $op $runs)
        row="$row | $((e / runs)) | $((t / runs)) | $((i / runs)) | $(awk -v a="$i" -v b="$e" 'BEGIN { printf "%.2f", a / b }')"
    done
    g=$(count "$item" gather enc $runs)
    row="$row | $((g / runs)) | $(awk -v a="$i" -v b="$g" 'BEGIN { printf "%.2f", a / b }')"
    echo "$row |"
done
