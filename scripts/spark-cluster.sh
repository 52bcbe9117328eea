#!/usr/bin/env bash
# A real Spark cluster on this machine: a standalone master and two workers (1 core, 2 GB each) on
# 127.0.0.1, BatchClassify submitted to it (client mode) twice: once undisturbed, once with one
# executor's JVM killed (by PID, kill -9) right after it committed its first output task, while the
# other tasks still run: its shuffle files are lost, so Spark recomputes them and retries its tasks. Both outputs must equal a local-mode
# run of the same job (labels equal, scores within 1e-5), with every input row exactly once.
# Everything started here is stopped here; exits non-zero on any failure.
#
#   scripts/spark-cluster.sh [ROWS]     (default 40000 rows of a tiny model: about 2-3 minutes on 2 cores)
#
# Work files: finetune4j-spark/target/spark-cluster/ (logs of master, workers, executors, driver; outputs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/spark-env.sh"
rows=${1:-40000}
work="$module/target/spark-cluster"
rm -rf "$work" && mkdir -p "$work"
trap spark_stop_all EXIT

jar=$(spark_build)
log "jar: $jar"
log "fixture: a tiny classifier and $rows texts"
spark_fixture "$work/model" "$work/input.csv" "$rows"

job=(--class org.finetune4j.spark.BatchClassify "$jar" --model "$work/model" --input "$work/input.csv" --format csv
  --text-column text --id-column id --probabilities --partitions 8 --batch-size 32)
executor_conf=(--conf spark.executor.extraJavaOptions=-Dai.djl.offline=true
  --conf "spark.executorEnv.DJL_CACHE_DIR=$work/djl-cache" --conf spark.executor.memory=1g --conf spark.executor.cores=1
  --conf spark.ui.enabled=false --conf spark.driver.host=127.0.0.1 --conf spark.task.maxFailures=4)

log "local run (local[2])"
spark_submit --master 'local[2]' --conf spark.ui.enabled=false "${job[@]}" --output "$work/out-local" >"$work/driver-local.log" 2>&1 \
  || { tail -50 "$work/driver-local.log" >&2; exit 1; }

spark_start_cluster "$work/cluster" 2 1 2g

log "cluster run 1 (client mode, undisturbed)"
spark_submit --master "$master_url" --deploy-mode client "${executor_conf[@]}" "${job[@]}" --output "$work/out-cluster" \
  >"$work/driver-cluster.log" 2>&1 || { tail -50 "$work/driver-cluster.log" >&2; exit 1; }

log "cluster run 2 (client mode, one executor killed after it committed its first output task)"
spark_submit --master "$master_url" --deploy-mode client "${executor_conf[@]}" "${job[@]}" --output "$work/out-killed" \
  >"$work/driver-killed.log" 2>&1 &
submit_pid=$!
started_pids+=("$submit_pid")
killed=""
for _ in $(seq 1 1200); do # at most 120 s
  kill -0 "$submit_pid" 2>/dev/null || break
  # Run 2's application is the second one (app ids sort by time); its executors' logs say when an output
  # task was committed. The executor is found by its command line (app id and executor id) among the worker's children.
  apps=$(ls -d "$work/cluster"/worker*/app-* 2>/dev/null | xargs -r -n1 basename | sort -u)
  app=$(sed -n 2p <<<"$apps")
  [ -n "$app" ] || { sleep 0.1; continue; }
  for w in 1 2; do
    for log_file in "$work/cluster/worker$w/$app"/*/stderr; do
      grep -qs "Saved output of task" "$log_file" || continue
      exec_id=$(basename "$(dirname "$log_file")")
      pid=$(pgrep -P "${worker_pids[$((w - 1))]}" -f "CoarseGrainedExecutorBackend.*--executor-id $exec_id .*--app-id $app" || true)
      if [ -n "$pid" ]; then
        kill -9 "$pid"
        killed="executor $exec_id (pid $pid) of $app on worker $w"
        break 3
      fi
    done
  done
  sleep 0.1
done
[ -n "$killed" ] || { log "FAIL: no executor was killed while the job ran"; exit 1; }
log "killed $killed mid-job"
wait "$submit_pid" || { tail -50 "$work/driver-killed.log" >&2; log "FAIL: the job failed after the kill"; exit 1; }
grep -q "Lost executor" "$work/driver-killed.log" || { log "FAIL: the driver never saw the executor go"; exit 1; }
grep -h "Lost executor\|Shuffle files lost\|Resubmitt\|FetchFailed" "$work/driver-killed.log" | cut -c1-200 | head -6 >&2 || true

log "comparing outputs"
python3 - "$work" "$rows" <<'PY'
import csv, glob, sys
work, rows = sys.argv[1], int(sys.argv[2])
def load(name):
    out = {}
    n = 0
    for f in sorted(glob.glob(f"{work}/{name}/part-*.csv")):
        with open(f, newline="") as fh:
            for r in csv.DictReader(fh):
                n += 1
                if r["id"] in out:
                    sys.exit(f"FAIL: {name}: id {r['id']} appears twice")
                out[r["id"]] = r
    if n != rows:
        sys.exit(f"FAIL: {name}: {n} rows, the input has {rows}")
    return out
local = load("out-local")
for name in ("out-cluster", "out-killed"):
    other = load(name)
    if set(other) != set(local):
        sys.exit(f"FAIL: {name}: other ids than the local run")
    worst = 0.0
    for i, a in local.items():
        b = other[i]
        if a["prediction"] != b["prediction"]:
            sys.exit(f"FAIL: {name}: id {i}: {b['prediction']} vs local {a['prediction']}")
        for k in a:
            if k == "score" or k.startswith("prob_"):
                if (a[k] == "") != (b[k] == ""):
                    sys.exit(f"FAIL: {name}: id {i}: {k} null in one run only")
                if a[k]:
                    worst = max(worst, abs(float(a[k]) - float(b[k])))
    if worst > 1e-5:
        sys.exit(f"FAIL: {name}: scores differ from the local run by {worst}")
    print(f"{name}: {len(other)} rows, each id once, labels equal to the local run, max score difference {worst:.2e}")
PY
log "PASS"
