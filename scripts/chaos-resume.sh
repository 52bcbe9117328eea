#!/usr/bin/env bash
# kill -9 / resume chaos test, long form: KILLS runs of a tiny model are each killed once, at a random
# training step or while a checkpoint is being written, then resumed with --resume-from-checkpoint latest;
# every finished model must be bit-identical to an uninterrupted run's (KillResumeTest; CI runs 4 kills).
#
#   scripts/chaos-resume.sh [KILLS] [SEED]     # default 20 kills, seed 20261205; ~3 min on an idle 2-core machine
#
# Prints one line per kill and the count; the test fails on the first model that differs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kills="${1:-20}"
seed="${2:-20261205}"
log="$(mktemp)"
status=0
mvn -q -B -o -pl finetune4j-cli -am verify -Dtest=KillResumeTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfinetune4j.chaos.kills="$kills" -Dfinetune4j.chaos.seed="$seed" >"$log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  cat "$log" >&2
else
  grep -a -o -E "kill-[0-9]+: .*|[0-9]+ of [0-9]+ killed runs resumed.*" "$log"
fi
rm -f "$log"
exit "$status"
