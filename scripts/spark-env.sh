# Sourced by scripts/spark-cluster.sh and scripts/spark-bench.sh: builds finetune4j-spark and a SPARK_HOME
# from Maven Central's Spark jars (no Spark distribution needed), and starts/stops a standalone Spark master
# and workers on loopback. Every process started here is stopped by its PID (spark_stop_all).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module="$here/finetune4j-spark"
spark_home="$module/target/spark-home"
jar_glob="$module/target/finetune4j-spark-*-with-deps.jar"
started_pids=()

# The JDK flags Spark's launcher adds on Java 17 (org.apache.spark.launcher.JavaModuleOptions), for the JVMs
# started here without it (master, workers, SparkSubmit); SparkContext adds them to executors itself.
java_module_opts="-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true"

# The malloc settings of ./finetune4j, for every JVM that runs a model (driver in local mode, executors).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}" MALLOC_MMAP_MAX_="${MALLOC_MMAP_MAX_:-0}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4000000000}" MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-268435456}"
export SPARK_HOME="$spark_home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# Builds the with-deps jar, the test classes (for ClusterFixture) and SPARK_HOME/jars, when missing or older than the sources.
spark_build() {
  local jar
  jar=$(ls $jar_glob 2>/dev/null | head -1 || true)
  if [ -z "$jar" ] || [ -n "$(find "$here/pom.xml" "$here/finetune4j-core/src/main" "$module/src" "$module/pom.xml" -newer "$jar" -print -quit)" ]; then
    log "building finetune4j-spark (mvn package, tests skipped)"
    mkdir -p "$module/target"
    mvn -q -B -o -f "$here/pom.xml" -pl finetune4j-spark -am package -DskipTests >"$module/target/build.log" 2>&1 \
      || { cat "$module/target/build.log" >&2; return 1; }
  fi
  jar=$(ls $jar_glob | head -1)
  if [ ! -f "$spark_home/RELEASE" ] || [ "$module/pom.xml" -nt "$spark_home/RELEASE" ]; then
    log "making SPARK_HOME at $spark_home (Spark's jars from the local Maven repository)"
    rm -rf "$spark_home" && mkdir -p "$spark_home/jars" "$spark_home/conf"
    # Spark's own dependency tree, as a distribution's jars/ holds it: a throwaway pom with Spark alone (in
    # finetune4j-spark's pom, Maven gives the jars Spark shares with core, e.g. Jackson, to core's scope instead).
    local version
    version=$(grep -o '<spark.version>[^<]*' "$module/pom.xml" | cut -d'>' -f2)
    mkdir -p "$spark_home/pom"
    cat >"$spark_home/pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>spark-home</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-core_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-sql_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-mllib_2.13</artifactId><version>$version</version></dependency>
  </dependencies>
</project>
POM
    # Not offline: the first run fetches the few jars of Spark's tree that finetune4j's build never needed.
    mvn -q -B -f "$spark_home/pom/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$spark_home/jars" >&2 || return 1
    # Spark's launcher takes SPARK_HOME/jars only beside a RELEASE file (a distribution's).
    echo "Spark $version (jars from Maven Central) for finetune4j-spark's scripts" >"$spark_home/RELEASE"
  fi
  if [ ! -f "$module/target/test-classpath.txt" ] || [ "$module/pom.xml" -nt "$module/target/test-classpath.txt" ]; then
    mvn -q -B -o -f "$module/pom.xml" dependency:build-classpath -Dmdep.includeScope=test \
      -Dmdep.outputFile="$module/target/test-classpath.txt" >&2 || return 1
    # finetune4j-core from this checkout's build, not whichever copy the local Maven repository holds.
    sed -i -e "s#[^:]*/finetune4j-core-[^:/]*-tests.jar#$here/finetune4j-core/target/test-classes#" \
      -e "s#[^:]*/finetune4j-core-[^:/]*.jar#$here/finetune4j-core/target/classes#" "$module/target/test-classpath.txt"
  fi
  echo "$jar"
}

# ClusterFixture MODEL_DIR CSV ROWS: a tiny classifier and a CSV of texts.
spark_fixture() {
  java -Dai.djl.offline=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dlog4j2.level=warn \
    -cp "$module/target/test-classes:$module/target/classes:$(cat "$module/target/test-classpath.txt")" \
    org.finetune4j.spark.ClusterFixture "$@" 2>/dev/null
}

# Starts a master and N workers (CORES cores, MEM memory each) on 127.0.0.1 under WORK; sets master_url, worker_pids.
spark_start_cluster() {
  local work=$1 workers=$2 cores=$3 mem=$4
  mkdir -p "$work"
  java -Xmx512m $java_module_opts -cp "$spark_home/jars/*" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port 0 --webui-port 0 >"$work/master.log" 2>&1 &
  master_pid=$!
  started_pids+=("$master_pid")
  master_url=""
  for _ in $(seq 1 120); do
    master_url=$(grep -o 'spark://127.0.0.1:[0-9]*' "$work/master.log" | head -1 || true)
    [ -n "$master_url" ] && grep -q "elected leader" "$work/master.log" && break
    kill -0 "$master_pid" 2>/dev/null || { cat "$work/master.log" >&2; return 1; }
    sleep 0.5
  done
  [ -n "$master_url" ] || { log "the master did not start (see $work/master.log)"; return 1; }
  log "master $master_url (pid $master_pid)"
  worker_pids=()
  for i in $(seq 1 "$workers"); do
    mkdir -p "$work/worker$i"
    java -Xmx512m $java_module_opts -cp "$spark_home/jars/*" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --port 0 --webui-port 0 --cores "$cores" --memory "$mem" --work-dir "$work/worker$i" \
      "$master_url" >"$work/worker$i.log" 2>&1 &
    worker_pids+=("$!")
    started_pids+=("$!")
  done
  for i in $(seq 1 "$workers"); do
    for _ in $(seq 1 120); do
      grep -q "Successfully registered with master" "$work/worker$i.log" && break
      sleep 0.5
    done
    grep -q "Successfully registered with master" "$work/worker$i.log" || { log "worker $i did not register (see $work/worker$i.log)"; return 1; }
  done
  log "${#worker_pids[@]} workers registered (pids ${worker_pids[*]})"
}

# The executor JVMs a worker started (its child processes).
spark_executor_pids() {
  pgrep -P "$1" -f CoarseGrainedExecutorBackend || true
}

# spark-submit, without a Spark distribution's scripts: SparkSubmit on SPARK_HOME/jars.
spark_submit() {
  java -Xmx1g $java_module_opts -Dai.djl.offline=true -cp "$spark_home/conf:$spark_home/jars/*" \
    org.apache.spark.deploy.SparkSubmit "$@"
}

# Stops every process this script started, by PID: workers first (they stop their executors), then the master.
spark_stop_all() {
  local p
  for p in "${started_pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for _ in $(seq 1 40); do
    local alive=0
    for p in "${started_pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.25
  done
  for p in "${started_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
