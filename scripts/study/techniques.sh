#!/usr/bin/env bash
# Issue 18: LLRD and EMA on the disaster tweets with MiniLM, each against the same run without it, three seeds
# (the hand-set full run's settings from RESULTS.md; --split-seed 42 keeps the same validation rows).
cd "$(dirname "$0")/../.."
common=(--model all-MiniLM-L6-v2 --train ../shared/data/disaster-tweets/train.csv --text-column text --label-column target
  --split 0.9,0.1 --split-seed 42 --clean tweets --keep-duplicates --batch-size 16 --max-length 128 --epochs 1
  --warmup-steps 50 --weight-decay 0.02 --strategy full --learning-rate 5e-5 -q)
for seed in 1 2 3; do
  for v in base llrd0.9 ema0.99; do
    case $v in
      base) extra=() ;;
      llrd0.9) extra=(--layerwise-lr-decay 0.9) ;;
      ema0.99) extra=(--ema-decay 0.99) ;;
    esac
    out=runs/study/techniques/$v-seed$seed
    [ -f "$out/eval_results.json" ] && continue
    echo "== $v seed $seed $(date +%T)"
    ./finetune4j train "${common[@]}" --seed $seed "${extra[@]}" --output $out --overwrite >/dev/null
    python3 -c "import json;d=json.load(open('$out/eval_results.json'));print('$v',$seed,d['eval_f1'],d['eval_accuracy'])"
  done
done
