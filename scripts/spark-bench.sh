#!/usr/bin/env bash
# Throughput of BatchClassify on a standalone Spark cluster on this machine against the single-process
# `./finetune4j predict`, on the same model and texts: IMDB test (25,000 long reviews, column review)
# and SST-2 train (67,349 short sentences, TSV, column sentence), from ../shared/data.
#
#   scripts/spark-bench.sh MODEL_DIR [ROWS]
#
# MODEL_DIR: a finetune4j classifier directory. The runs in RESULTS.md use all-MiniLM-L6-v2 with a head
# trained on SST-2 (the packaged MiniLM imported, encoder frozen):
#   ./finetune4j train --model all-MiniLM-L6-v2 --train ../shared/data/sst2/train.tsv --validation ../shared/data/sst2/dev.tsv \
#       --text-column sentence --label-column label --strategy frozen --epochs 1 --max-length 128 --seed 42 --output runs/sst2-minilm
# ROWS: the first ROWS rows of each dataset (default: all). ROWS=500 checks that the script works.
#
# DATASETS (default "imdb sst2") picks the datasets.
# Spark runs: one worker with all CORES (default: nproc) cores; for each PARTITIONS (default "CORES 4*CORES")
# and TASK_CPUS (default "1 CORES"), one application (executor cores = CORES, spark.task.cpus = t, so
# CORES/t tasks at once, each with t intra-op threads). The first application starts with an empty DJL
# cache (DJL_CACHE_DIR), so its executor extracts the PyTorch natives; the others find them there.
# Reported per run: rows/s over the write job (the driver's "wrote predictions ... in X s", executor
# start excluded, model load included) and over the whole spark-submit; the executor's own timings of
# engine start (native extraction included when cold) and model load (ModelCache's log lines).
# Work files and the table (bench.md): finetune4j-spark/target/spark-bench/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/spark-env.sh"
model=$(cd "${1:?usage: scripts/spark-bench.sh MODEL_DIR [ROWS]}" && pwd)
rows=${2:-all}
cores=${CORES:-$(nproc)}
partitions=${PARTITIONS:-"$cores $((4 * cores))"}
task_cpus=${TASK_CPUS:-"1 $cores"}
data="$here/../shared/data"
work="$module/target/spark-bench"
rm -rf "$work" && mkdir -p "$work"
trap spark_stop_all EXIT

jar=$(spark_build)

# The datasets, or their first ROWS rows (no IMDB review and no SST-2 sentence holds a newline: their READMEs).
take() { if [ "$rows" = all ]; then cat; else head -n $((rows + 1)); fi; }
(set +o pipefail; zcat "$data/imdb-50k/test.csv.gz" | take >"$work/imdb.csv") # head closes the pipe early
take <"$data/sst2/train.tsv" >"$work/sst2.tsv"
all_datasets=("imdb|$work/imdb.csv|review|csv|,|$(($(wc -l <"$work/imdb.csv") - 1))"
  "sst2|$work/sst2.tsv|sentence|csv|\\t|$(($(wc -l <"$work/sst2.tsv") - 1))")
datasets=()
for d in "${all_datasets[@]}"; do
  [[ " ${DATASETS:-imdb sst2} " == *" ${d%%|*} "* ]] && datasets+=("$d")
done

now() { date +%s.%N; }
rate() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}')" "$1" "$2"; }
table="$work/bench.md"
{
  echo "| dataset | rows | runner | partitions | task.cpus | write job s | rows/s (write job) | rows/s (whole run) | engine start ms | model load ms |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} >"$table"

log "baseline: ./finetune4j predict (one process, default threads)"
"$here/finetune4j" --version >/dev/null # builds the CLI first, outside the timing
for d in "${datasets[@]}"; do
  IFS='|' read -r name file col _ _ n <<<"$d"
  start=$(now)
  "$here/finetune4j" predict --model "$model" --data "$file" --text-column "$col" --output "$work/predict-$name.csv" \
    --batch-size 32 --quiet
  secs=$(python3 -c "print(f'{$(now) - $start:.1f}')")
  echo "| $name | $n | ./finetune4j predict | - | - | - | - | $(rate "$n" "$secs") | - | - |" >>"$table"
  log "$name: $n rows in $secs s"
done

spark_start_cluster "$work/cluster" 1 "$cores" 8g
cache="$work/djl-cache" # empty for the first application only
app=0
for d in "${datasets[@]}"; do
  IFS='|' read -r name file col format sep n <<<"$d"
  for p in $partitions; do
    for t in $task_cpus; do
      app=$((app + 1))
      out="$work/out-$name-p$p-t$t"
      start=$(now)
      spark_submit --master "$master_url" --deploy-mode client \
        --conf spark.executor.extraJavaOptions=-Dai.djl.offline=true \
        --conf "spark.executorEnv.DJL_CACHE_DIR=$cache" --conf spark.executor.memory=4g \
        --conf spark.executor.cores="$cores" --conf spark.task.cpus="$t" --conf spark.ui.enabled=false \
        --conf spark.driver.host=127.0.0.1 \
        --class org.finetune4j.spark.BatchClassify "$jar" --model "$model" --input "$file" --format "$format" \
        --delimiter "$sep" --text-column "$col" --output "$out" --output-format parquet --partitions "$p" --batch-size 32 \
        >"$work/driver-$app.log" 2>&1 || { tail -40 "$work/driver-$app.log" >&2; exit 1; }
      whole=$(python3 -c "print(f'{$(now) - $start:.1f}')")
      job=$(grep -o 'wrote predictions for .* in [0-9.]* s' "$work/driver-$app.log" | grep -o '[0-9.]* s$' | cut -d' ' -f1)
      logs=$(ls -d "$work/cluster/worker1"/app-* | sort | tail -1)
      engine=$(grep -ho 'engine PyTorch [^ ]* ready on host [^ ]* in [0-9]* ms' "$logs"/*/stderr | grep -o '[0-9]* ms' | cut -d' ' -f1 | paste -sd/)
      load=$(grep -ho 'loaded classifier .* in [0-9]* ms' "$logs"/*/stderr | grep -o '[0-9]* ms$' | cut -d' ' -f1 | paste -sd/)
      [ "$app" = 1 ] && engine="$engine (cold cache)"
      echo "| $name | $n | Spark standalone, 1 executor x $cores cores | $p | $t | $job | $(rate "$n" "$job") | $(rate "$n" "$whole") | $engine | $load |" >>"$table"
      log "$name p=$p t=$t: write job $job s, whole run $whole s, engine $engine ms, model load $load ms"
    done
  done
done
cat "$table"
