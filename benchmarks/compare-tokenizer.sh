#!/usr/bin/env bash
# Throughput of TokenMetrics' tokenizer against the oracle (npm tiktoken@1.0.22, WASM of OpenAI's Rust core) and
# gpt-tokenizer@4.0.0 on the same files, in the same run, same method (count-only, best of N after a warm-up),
# then the ratio ours/theirs per file and encoding. Also checks that all three report the same token counts.
#
#   benchmarks/compare-tokenizer.sh [--oracle DIR] [--repeat N] [--enc cl100k_base,o200k_base] [FILE...]
#
# DIR is a copy of shared/tools/token-oracle with `npm install` run in it (default: $TOKEN_ORACLE_DIR or /work/oracle).
# Without files it uses the tokenizer test corpus (tests/TokenMetrics.Tokenizer.Tests/TestData/corpus), decompressed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
oracle=${TOKEN_ORACLE_DIR:-/work/oracle}
repeat=3
enc=cl100k_base,o200k_base
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --oracle) oracle=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --enc) enc=$2; shift 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
[ -f "$oracle/count.js" ] && [ -d "$oracle/node_modules/tiktoken" ] || { echo "oracle not found in $oracle (copy shared/tools/token-oracle there and run npm install)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ${#files[@]} -eq 0 ]; then
  for gz in "$root"/tests/TokenMetrics.Tokenizer.Tests/TestData/corpus/*.txt.gz; do
    out="$tmp/$(basename "${gz%.gz}")"; gunzip -c "$gz" > "$out"; files+=("$out")
  done
fi

dotnet build -c Release -v q "$root/benchmarks/compare-tokenizer/TokenizerThroughput.csproj" -o "$tmp/bin" > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
dotnet "$tmp/bin/TokenizerThroughput.dll" --enc "$enc" --repeat "$repeat" "${files[@]}" | tee "$tmp/ours.tsv"
node "$oracle/count.js" --impl tiktoken --enc "$enc" --repeat "$repeat" "${files[@]}" | tee "$tmp/tiktoken.tsv"
node "$oracle/count.js" --impl gpt-tokenizer --enc "$enc" --repeat "$repeat" "${files[@]}" | tee "$tmp/gpt-tokenizer.tsv"

python3 - "$tmp/ours.tsv" "$tmp/tiktoken.tsv" "$tmp/gpt-tokenizer.tsv" <<'PY'
import os, sys
def load(path):
    rows = {}
    for line in open(path):
        if line.startswith(("#", "impl")):
            continue
        impl, enc, file, nbytes, tokens, ms, mbs, bpt = line.rstrip("\n").split("\t")
        rows[(enc, os.path.basename(file))] = (int(tokens), float(mbs))
    return rows
ours, tik, gpt = (load(p) for p in sys.argv[1:4])
print()
print("| encoding | file | ours MB/s | tiktoken (WASM) MB/s | gpt-tokenizer MB/s | ours/tiktoken | ours/gpt-tokenizer | counts |")
print("|---|---|---:|---:|---:|---:|---:|---|")
for key in ours:
    o, t, g = ours[key], tik.get(key), gpt.get(key)
    same = "equal" if t and o[0] == t[0] else f"DIFFER (ours {o[0]}, tiktoken {t[0] if t else '?'})"
    if g and g[0] != o[0]:
        same += f"; gpt-tokenizer {g[0]}"
    print(f"| {key[0]} | {key[1]} | {o[1]:.1f} | {t[1]:.1f} | {g[1]:.1f} | {o[1]/t[1]:.1f}x | {o[1]/g[1]:.1f}x | {same} |")
PY
