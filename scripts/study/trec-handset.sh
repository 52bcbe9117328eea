#!/usr/bin/env bash
# The hand-set TREC-6 run the study is compared with: the hand-set tweets run's settings (3 epochs here).
cd "$(dirname "$0")/../.."
./finetune4j train --model all-MiniLM-L6-v2 --train ../shared/data/trec6/train.csv --text-column text \
  --label-column coarse_label --split 0.9,0.1 --seed 42 --batch-size 16 --max-length 64 --strategy full \
  --epochs 3 --learning-rate 5e-5 --warmup-steps 50 --weight-decay 0.02 --output runs/study/trec-handset --overwrite -q
python3 -c "import json;d=json.load(open('runs/study/trec-handset/eval_results.json'));print('trec handset', d['eval_macro_f1'], d['eval_accuracy'])"
