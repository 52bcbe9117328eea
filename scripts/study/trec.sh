#!/usr/bin/env bash
# Issue 18: 16-trial TPE + ASHA study on TREC-6 coarse (6 classes) with MiniLM, 90/10 split, seed 42, macro-F1.
cd "$(dirname "$0")/../.."
/usr/bin/time -v ./finetune4j tune --model all-MiniLM-L6-v2 --train ../shared/data/trec6/train.csv \
  --text-column text --label-column coarse_label --split 0.9,0.1 --seed 42 \
  --batch-size 16 --max-length 64 --strategy full \
  --space "learning_rate=loguniform(2e-5,3e-4)" --space "num_train_epochs=int(2,6)" \
  --space "warmup_ratio=uniform(0,0.2)" --space "weight_decay=uniform(0,0.1)" \
  --metric eval_macro_f1 --sampler tpe --pruner asha --trials 16 --output runs/study/tune-trec-asha "$@"
