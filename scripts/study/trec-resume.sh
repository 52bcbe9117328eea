#!/usr/bin/env bash
# The TREC-6 study of trec.sh, shortened to 8 trials (killed during trial 0 for time, then resumed).
cd "$(dirname "$0")/../.."
/usr/bin/time -v ./finetune4j tune --resume runs/study/tune-trec-asha --trials 8
