#!/usr/bin/env bash
# Does PyTorch's TorchScript CPU fuser (NNC / TensorExpr) speed up our training steps? Times forward + backward
# of BERT-layer pieces (FuserProbe.java) as plain DJL ops and as TorchScript methods under each fuser setting
# (fuser_switches.c), at 1 and 2 intra-op threads, and reports whether fusion groups formed.
#
#   scripts/probes/fuser-probe.sh [OUT_DIR]       # default runs/fuser-probe-<commit>; ~15 min on 2 cores
#
# Settings (FUSER_PROBE_SWITCHES, see fuser_switches.c):
#   off             libtorch's defaults: the TensorExpr fuser is on but may not fuse on CPU
#   fuse            overrideCanFuseOnCPU(true): groups form, NNC must compile them with LLVM
#   fuse,fallback   the same, and a group NNC cannot compile runs unfused
#   fuse,interp     getTEMustUseLLVMOnCPU() = false: groups run in NNC's IR interpreter (only INTERP_CASES:
#                   it takes seconds per element-wise op; 3 warm-up steps, then 3 timed)
# Environment: CASES (default "gelu gelu_tanh residual layer"), THREADS ("1 2"), INTERP_CASES ("residual"),
#   WARMUP (20), REPEATS (7), MIN_MS (400 ms per repeat).
# Run it on an otherwise idle machine: with 2 threads, a busy core stalls every parallel op.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${1:-runs/fuser-probe-$(git rev-parse --short HEAD)}"
cases="${CASES:-gelu gelu_tanh residual layer}"
threads="${THREADS:-1 2}"
interp_cases="${INTERP_CASES:-residual}"
warmup="${WARMUP:-20}" repeats="${REPEATS:-7}" min_ms="${MIN_MS:-400}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

mvn -q -B -o -pl finetune4j-core -am test-compile
(cd finetune4j-core && mvn -q -B -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$out/classpath.txt" >/dev/null)
cp="finetune4j-core/target/test-classes:finetune4j-core/target/classes:$(cat "$out/classpath.txt")"
so="$out/libfuser_switches.so"
cc -shared -fPIC -O2 -Wall -o "$so" scripts/probes/fuser_switches.c -ldl

# the launcher's malloc settings (finetune4j, docs/performance.md)
export MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=4000000000 MALLOC_TOP_PAD_=268435456

# run CASE IMPL THREADS SWITCHES WARMUP REPEATS MIN_MS -> one table row
run() {
  local kase=$1 impl=$2 th=$3 sw=$4 log="$out/$1-$2-t$3-${4//,/+}.log"
  [ -n "$4" ] || log="$out/$1-$2-t$3-off.log"
  local rc=0
  FUSER_PROBE_SWITCHES="$sw" PYTORCH_JIT_LOG_LEVEL="tensorexpr_fuser:kernel" \
    java -Xms32m -Dai.djl.offline=true -Dorg.slf4j.simpleLogger.defaultLogLevel=error \
    -Dai.djl.pytorch.num_threads="$th" -Dfuser.switches="$so" -cp "$cp" \
    org.finetune4j.probe.FuserProbe "$kase" "$impl" "$5" "$6" "$7" >"$log" 2>&1 || rc=$?
  # fusion groups in the graphs the fuser pass returns (forward and backward), the aten ops inside them, and the
  # NNC kernels libtorch tried to build from them (kernel.cpp dumps a group's graph on entry). Whether a kernel
  # then ran compiled, failed or fell back shows in the timing column: without LLVM only fuse,interp compiles.
  local groups ops tried result
  groups=$(grep -c '^\[DUMP tensorexpr_fuser.cpp:1350\] with prim::TensorExprGroup_' "$log" || true)
  ops=$(awk '/^\[DUMP tensorexpr_fuser.cpp:1350\] (with prim::|After TExprFuser)/ { inside = ($0 ~ /with prim::TensorExprGroup_/) }
             inside && /^\[DUMP tensorexpr_fuser.cpp:1350\]/ && /= aten::/ { n++ } END { print n + 0 }' "$log")
  tried=$(grep -c '^\[DUMP kernel.cpp:1649\] TensorExprKernel graph' "$log" || true)
  result=$(grep '^RESULT' "$log" || true)
  if [ -n "$result" ]; then
    read -r _ _ _ t med lo hi iters dout dgrad <<<"$result"
    printf '| %s | %s | %s | %s | %s | %s–%s | %s | %s | %s | %s / %s |\n' "$kase" "$impl" "${sw:-off}" "$t" "$med" "$lo" "$hi" \
      "$iters" "$groups ($ops ops)" "$tried" "$dout" "$dgrad"
  else
    printf '| %s | %s | %s | %s | failed (exit %s): %s | | | %s (%s ops) | %s | |\n' "$kase" "$impl" "${sw:-off}" "$th" "$rc" \
      "$(grep -m1 -E 'RuntimeError|Error:' "$log" | tr -d '|' | cut -c1-80)" "$groups" "$ops" "$tried"
  fi
}

{
  echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "warm-up $warmup steps; $repeats repeats of >= $min_ms ms each; ms per forward + backward step"
  echo
  echo "| case | impl | fuser | threads | ms median | ms min–max | steps/repeat | fusion groups (ops) | NNC kernels tried | max diff out / grad vs eager |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} | tee "$out/table.md"
for kase in $cases; do
  for th in $threads; do
    run "$kase" eager "$th" "" "$warmup" "$repeats" "$min_ms"
    for sw in "" fuse fuse,fallback; do
      run "$kase" script "$th" "$sw" "$warmup" "$repeats" "$min_ms"
    done
    if [[ " $interp_cases " == *" $kase "* ]]; then
      run "$kase" script "$th" fuse,interp 3 1 0
    fi
  done
done | tee -a "$out/table.md"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/table.md"
