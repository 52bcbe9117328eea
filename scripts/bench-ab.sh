#!/usr/bin/env bash
# The training bench of RESULTS.md ("Hand-written layer backward"), for this checkout and another build side by
# side, alternating, so both see the same machine: full, LoRA and frozen, fp32 and bf16, on the raw disaster
# tweets, batch 16, max_length 128, 110 timed steps after 10 untimed.
#
#   scripts/bench-ab.sh OTHER_LAUNCHER OUT_DIR [REPEATS]
# e.g. git worktree add ../base <commit> && scripts/bench-ab.sh ../base/finetune4j runs/bench-ab 2
# Each repeat runs OTHER then this checkout; bench.md of each lands in OUT_DIR/{other,this}-<repeat>.
# Run it alone on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
other=$1
out=$2
repeats=${3:-1}
mkdir -p "$out"
args=(bench --train ../shared/data/disaster-tweets/train.csv --text-column text --label-column target --keep-duplicates
  --batch-size 16 --max-length 128 --strategies full,lora,frozen --precisions fp32,bf16 --steps 110
  --inference-batches 1 --inference-samples 16 --overwrite)
for i in $(seq 1 "$repeats"); do
  "$other" "${args[@]}" --output "$out/other-$i" > "$out/other-$i.log" 2>&1
  ./finetune4j "${args[@]}" --output "$out/this-$i" > "$out/this-$i.log" 2>&1
  for side in other this; do
    echo "== $side $i"
    grep -E '^\| (full|lora|frozen)|matmul peak|^Start-up' "$out/$side-$i/bench.md" | sed 's/Machine:.*fp32 matmul peak/fp32 matmul peak/'
  done
done
