package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.tune.Direction;
import org.finetune4j.tune.Sampler;
import org.finetune4j.tune.Samplers;
import org.finetune4j.tune.SearchSpace;
import org.finetune4j.tune.Trial;
import org.finetune4j.tune.TrialRecord;
import org.finetune4j.tune.Tuning;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tune} as a user runs it, in its own JVM, killed with SIGKILL while a trial trains, then
 * {@code tune --resume}: the orphaned trial JVM stops by itself (it must not race the re-run for its
 * directory), no finished trial runs again, the killed one runs again with the same parameters, and the
 * trials after it are what the sampler suggests from the recorded history.
 */
class TuneKillResumeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern STARTED = Pattern.compile("trial (\\d+) started \\(pid (\\d+)\\)");
    static final int TRIALS = 4;

    @TempDir
    Path tmp;

    @Test
    @Tag("slow")
    void aStudyKilledWhileATrialTrainsResumesWithoutRepeatingFinishedTrials() throws Exception {
        Path model = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 1, tmp.resolve("tiny-bert"));
        Path data = tmp.resolve("reviews.csv");
        List<String> rows = new ArrayList<>(List.of("text,label"));
        for (int i = 0; i < 80; i++) {
            rows.add(i % 2 == 0 ? "the storm flooded the town number " + i + ",disaster" : "a lovely sunny afternoon number " + i + ",calm");
        }
        Files.write(data, rows);
        Path study = tmp.resolve("study");
        List<String> args = List.of("tune", "--model", model.toString(), "--train", data.toString(), "--split", "0.75,0.25",
                "--batch-size", "8", "--max-length", "32", "--logging-steps", "1", "--space", "learning_rate=loguniform(1e-4,1e-2)",
                "--space", "num_train_epochs=int(3,5)", "--sampler", "tpe", "--sampler-seed", "11", "--trials",
                Integer.toString(TRIALS), "--output", study.toString());

        // 1. tune in its own JVM; kill -9 it once trial 1 or later is training (a trial before it has finished).
        Path log = tmp.resolve("tune.log");
        Process tune = new ProcessBuilder(javaCommand(args)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        int killed = -1;
        long orphan = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        try {
            while (killed < 0 && tune.isAlive() && System.nanoTime() < deadline) {
                Map<Integer, Long> pids = startedPids(log);
                Map<Integer, Integer> finishes = events(study, "finish");
                for (Map.Entry<Integer, Long> e : pids.entrySet()) {
                    boolean training = Files.isRegularFile(study.resolve("trial-" + e.getKey()).resolve("metrics.jsonl"));
                    if (e.getKey() >= 1 && !finishes.containsKey(e.getKey()) && training) {
                        killed = e.getKey();
                        orphan = e.getValue();
                    }
                }
                Thread.sleep(20);
            }
            assertTrue(killed >= 1, "a trial after the first was caught training:\n" + read(log));
            assertTrue(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false), "trial " + killed + " runs");
            tune.destroyForcibly(); // SIGKILL: no shutdown hook, the study cannot stop its trial
            tune.waitFor();

            // 2. The orphaned trial notices its parent is gone and halts, instead of training on into trial-<n>.
            ProcessHandle child = ProcessHandle.of(orphan).orElse(null);
            if (child != null) {
                child.onExit().get(10, TimeUnit.SECONDS);
            }
            String childErr = read(study.resolve("logs").resolve("trial-" + killed + ".stderr.log"));
            assertTrue(childErr.contains("parent process " + tune.pid() + " is gone"), childErr);
        } finally {
            tune.destroyForcibly();
            long pid = orphan;
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        Map<Integer, Map<String, Object>> paramsBefore = startedParams(study);
        Map<Integer, Integer> finishedBefore = events(study, "finish");
        assertEquals(killed, finishedBefore.size(), "trials 0.." + (killed - 1) + " finished before the kill");
        assertFalse(finishedBefore.containsKey(killed));

        // 3. tune --resume: the killed trial again, then the rest.
        CliRun resumed = CliRun.of("tune", "--resume", study.toString());
        assertEquals(0, resumed.exitCode(), resumed.err());
        assertTrue(resumed.err().contains("resuming " + study + ": " + killed + " trials finished, 1 unfinished to run again"
                + " with the same parameters"), resumed.err());

        Map<Integer, Integer> starts = events(study, "start");
        Map<Integer, Integer> finishes = events(study, "finish");
        for (int n = 0; n < TRIALS; n++) {
            assertEquals(n == killed ? 2 : 1, starts.get(n), "start events of trial " + n + ": " + starts);
            assertEquals(1, finishes.get(n), "finish events of trial " + n);
        }
        Map<Integer, Map<String, Object>> params = startedParams(study);
        assertEquals(paramsBefore.get(killed), params.get(killed), "the killed trial re-ran with its parameters");
        for (int n = 0; n < killed; n++) {
            assertEquals(paramsBefore.get(n), params.get(n));
        }

        // The trials after the kill are the sampler's suggestions from the recorded history, as uninterrupted.
        List<TrialRecord> records = Tuning.readTrials(study);
        SearchSpace space = Tuning.readSettings(study).space();
        Sampler tpe = Samplers.sampler("tpe", 11, space);
        for (int n = killed + 1; n < TRIALS; n++) {
            List<Trial> history = records.subList(0, n).stream().map(TrialRecord::trial).toList();
            assertEquals(tpe.sample(space, history, n, Direction.MINIMIZE), params.get(n), "trial " + n + "'s parameters");
        }

        JsonNode j = JSON.readTree(study.resolve("tune.json").toFile());
        assertEquals(TRIALS, j.get("trials").size());
        j.get("trials").forEach(t -> assertEquals("COMPLETE", t.get("state").asText(), t.toString()));
        JsonNode rerun = null;
        for (JsonNode t : j.get("trials")) {
            if (t.get("trial").asInt() == killed) {
                rerun = t;
            }
        }
        assertNotNull(rerun);
        assertEquals(((Number) params.get(killed).get("num_train_epochs")).doubleValue(), rerun.get("epoch").asDouble(), 1e-9, "the re-run trained all its epochs");
        assertEquals(rerun.get("params").get("num_train_epochs").asInt(), rerun.get("intermediate").size(),
                "one evaluation per epoch of the re-run, none left over from the killed run");
        assertNotNull(j.get("best").get("params"));
    }

    private static List<String> javaCommand(List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "-Dai.djl.offline=true", Main.class.getName()));
        cmd.addAll(args);
        return cmd;
    }

    /** Trial number to the pid tune printed when it started it (the last start of each). */
    private static Map<Integer, Long> startedPids(Path log) throws IOException {
        Map<Integer, Long> pids = new TreeMap<>();
        Matcher m = STARTED.matcher(read(log));
        while (m.find()) {
            pids.put(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)));
        }
        return pids;
    }

    /** Trial number to how many {@code event} lines study.jsonl holds for it. */
    private static Map<Integer, Integer> events(Path study, String event) throws IOException {
        Map<Integer, Integer> counts = new HashMap<>();
        for (JsonNode e : journal(study)) {
            if (e.get("event").asText().equals(event)) {
                counts.merge(e.get("trial").asInt(), 1, Integer::sum);
            }
        }
        return counts;
    }

    /** Trial number to the parameters of each of its starts; a second start must repeat the first's. */
    @SuppressWarnings("unchecked")
    private static Map<Integer, Map<String, Object>> startedParams(Path study) throws IOException {
        Map<Integer, Map<String, Object>> params = new TreeMap<>();
        for (JsonNode e : journal(study)) {
            if (e.get("event").asText().equals("start")) {
                Map<String, Object> p = JSON.convertValue(e.get("params"), LinkedHashMap.class);
                Map<String, Object> earlier = params.putIfAbsent(e.get("trial").asInt(), p);
                assertTrue(earlier == null || earlier.equals(p), "trial " + e.get("trial") + " started with " + earlier + ", then " + p);
            }
        }
        return params;
    }

    private static List<JsonNode> journal(Path study) throws IOException {
        Path file = study.resolve("study.jsonl");
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                try {
                    out.add(JSON.readTree(line));
                } catch (IOException e) {
                    break; // the line being written
                }
            }
        }
        return out;
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "(no " + file.getFileName() + ")";
    }
}
