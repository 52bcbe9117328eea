#!/usr/bin/env bash
# Regenerates RESULTS.md: trains the run set, runs the bench, then writes the page from the files they
# wrote (./finetune4j results). Every row is measured at one commit, so the working tree must be clean.
#
#   scripts/results.sh [OUT_DIR]     # default runs/results-<commit>; 13 min on 2 cores (measured at 4e15aa5)
#
# Run it alone on an otherwise idle machine: the page reports throughput and peak memory.
# The data sets are read from ../shared/data (each has a README there).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "results.sh: the working tree has uncommitted changes; commit them first, so that RESULTS.md names the code it measured" >&2
  exit 1
fi
commit="$(git rev-parse --short HEAD)"
out="${1:-runs/results-$commit}"
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  echo "results.sh: $out is not empty; remove it or give another directory" >&2
  exit 1
fi
mkdir -p "$out"
data=../shared/data
commands="$out/commands.sh"
: >"$commands"

# Runs one command and records it, as run, for the page's "Reproduce" section.
run() {
  printf '%s\n' "$*" >>"$commands"
  "$@"
}

# Disaster tweets: all 6,851 training tweets (duplicates kept), the notebook's cleaning, 1 epoch.
tweets=(--train "$data/disaster-tweets/train.csv" --text-column text --label-column target --split 0.9,0.1 --seed 42
  --clean tweets --keep-duplicates --batch-size 16 --max-length 128 --epochs 1 --warmup-steps 50 --weight-decay 0.02)
# SMS spam: 70/15/15 stratified split of the de-duplicated messages, balanced class weights.
sms=(--train "$data/sms-spam-collection/SMSSpamCollection" --format tsv --no-header --columns label,text
  --split 0.7,0.15,0.15 --seed 42 --class-weights balanced --batch-size 16 --max-length 128)
lora=(--strategy lora --lora-r 16 --lora-alpha 32 --lora-dropout 0.05 --lora-target-modules query,value)

run ./finetune4j train "${tweets[@]}" --strategy full --learning-rate 5e-5 --output "$out/tweets-full" -q
run ./finetune4j train "${tweets[@]}" "${lora[@]}" --learning-rate 5e-4 --output "$out/tweets-lora" -q
run ./finetune4j train "${tweets[@]}" --strategy frozen --head mlp --learning-rate 1e-3 --output "$out/tweets-frozen" -q
run ./finetune4j train "${sms[@]}" --strategy full --epochs 3 --warmup-ratio 0.1 --weight-decay 0.01 --output "$out/sms-full" -q
run ./finetune4j train "${sms[@]}" "${lora[@]}" --epochs 3 --learning-rate 5e-4 --warmup-ratio 0.1 --weight-decay 0.01 \
  --output "$out/sms-lora" -q
run ./finetune4j train "${sms[@]}" --strategy frozen --head mlp --epochs 20 --learning-rate 1e-3 --output "$out/sms-frozen" -q

run ./finetune4j bench --train "$data/disaster-tweets/train.csv" --text-column text --label-column target --clean tweets --keep-duplicates \
  --batch-size 16 --max-length 128 --strategies full,lora,frozen --steps 100 --inference-batches 1,8,64 \
  --inference-samples 2048 --onnx --onnx-batches 1,8,64 --output "$out/bench" >"$out/bench.log"

./finetune4j results --runs "$out"/tweets-{full,lora,frozen} "$out"/sms-{full,lora,frozen} --bench "$out/bench/bench.json" \
  --commands "$commands" --commit "$commit" --output RESULTS.md --overwrite
echo "RESULTS.md written from $out (commit $commit)" >&2
