#!/usr/bin/env bash
# Issue 18: 16-trial TPE + ASHA study on the disaster tweets with MiniLM (90/10 split, seed 42), the data
# options of the hand-set runs in RESULTS.md (--clean tweets --keep-duplicates, batch 16, max_length 128).
# Three evaluations per epoch (429 steps): ASHA rungs at evaluations 1, 3 and 9.
cd "$(dirname "$0")/../.."
/usr/bin/time -v ./finetune4j tune --model all-MiniLM-L6-v2 --train ../shared/data/disaster-tweets/train.csv \
  --text-column text --label-column target --split 0.9,0.1 --seed 42 --clean tweets --keep-duplicates \
  --batch-size 16 --max-length 128 --strategy full \
  --space "learning_rate=loguniform(1e-5,2e-4)" --space "num_train_epochs=int(1,3)" \
  --space "warmup_ratio=uniform(0,0.2)" --space "weight_decay=uniform(0,0.1)" \
  --eval-strategy steps --eval-steps 143 \
  --metric eval_f1 --sampler tpe --pruner asha --trials 16 --output runs/study/tune-tweets-asha "$@"
