#!/usr/bin/env bash
# Full fine-tuning of the packaged MiniLM on the raw disaster tweets with the settings of the Hugging Face
# Trainer anchor of issue 20 (no --clean, 90/10 split, 1 epoch, batch 16, max_length 128, lr 5e-5,
# 2 threads, length grouping), on the first 3,200 tweets and on all 7,613 (6,851 train), one run per
# seed. Prints train samples/s, the ratio to the HF Trainer's figures measured side by side on this
# CPU (16.9 samples/s on the 3,200 subset, 13.5 on all tweets), peak RSS and validation F1.
#
#   scripts/speed-vs-hf.sh [OUT_DIR] [SEEDS...]        e.g. scripts/speed-vs-hf.sh runs/speed 42 43 44
#   LAUNCHER=/path/to/other/checkout/finetune4j scripts/speed-vs-hf.sh ...   (the same runs with another build)
#   DATASETS="3200" or "all" restricts the runs (default: both).
# The split is always drawn with seed 42 (--split-seed), so every seed validates on the same tweets.
# Run it alone on the machine: the samples/s are timings.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/speed-vs-hf}
shift || true
seeds=("${@:-42}")
[ ${#seeds[@]} -gt 0 ] || seeds=(42)
launcher=${LAUNCHER:-./finetune4j}
data=../shared/data/disaster-tweets/train.csv
datasets=${DATASETS:-3200 all}
mkdir -p "$out"
subset="$out/first-3200.csv"
if [ ! -s "$subset" ]; then
  # The first 3,200 records, not lines: some tweets hold newlines inside quotes.
  python3 - "$data" "$subset" <<'PY'
import csv, sys
with open(sys.argv[1], newline='') as f, open(sys.argv[2], 'w', newline='') as g:
    r, w = csv.reader(f), csv.writer(g)
    w.writerow(next(r))
    for i, row in zip(range(3200), r):
        w.writerow(row)
PY
fi
common=(--text-column text --label-column target --split 0.9,0.1 --split-seed 42 --keep-duplicates --batch-size 16
  --max-length 128 --epochs 1 --learning-rate 5e-5 --strategy full -q)
printf '| data | seed | train examples | train samples/s | × HF Trainer | peak RSS MB | val F1 | val accuracy |\n|---|---|---|---|---|---|---|---|\n' > "$out/table.md"
for d in $datasets; do
  case $d in
    3200) file=$subset; hf=16.9 ;;
    all) file=$data; hf=13.5 ;;
    *) echo "unknown dataset $d (3200 or all)" >&2; exit 2 ;;
  esac
  for s in "${seeds[@]}"; do
    run="$out/tweets-$d-seed$s"
    rm -rf "$run"
    "$launcher" train --train "$file" "${common[@]}" --seed "$s" --output "$run"
    jq -r -s --arg d "$d" --arg s "$s" --argjson hf "$hf" '
      .[0].results as $x | .[1] as $e |
      "| \($d) | \($s) | \($x.train_examples) | \($x.train_samples_per_second*10|round/10) | \(($x.train_samples_per_second/$hf)*100|round/100)× | \($x.peak_rss_mb|round) | \($e.eval_f1*10000|round/10000) | \($e.eval_accuracy*10000|round/10000) |"' \
      "$run/run_config.json" "$run/eval_results.json" | tee -a "$out/table.md"
  done
done
echo "table: $out/table.md"
