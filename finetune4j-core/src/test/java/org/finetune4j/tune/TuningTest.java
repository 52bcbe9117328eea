package org.finetune4j.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The study loop with trials that train nothing ({@link FakeTrials}): resume, pruning, failures, parallelism, results. */
class TuningTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SearchSpace SPACE = new SearchSpace(Map.of("x", new Distribution.Uniform(0, 1)));
    private static final Pruner NEVER = (t, s, o, d) -> false;

    /** Evaluations rising to 1 - (x - 0.3)^2 in three steps: the best x is 0.3. */
    private static List<Double> curve(Map<String, Object> p) {
        double x = (Double) p.get("x");
        double f = 1 - (x - 0.3) * (x - 0.3);
        return List.of(f - 0.2, f - 0.1, f);
    }

    private static StudySettings settings(int trials) {
        return new StudySettings(SPACE, FakeTrials.METRIC, Direction.MAXIMIZE, "tpe", 7, "none", trials, List.of("--epochs", "3"));
    }

    /** TPE with two random start-up trials, so that from trial 2 on each suggestion depends on the history. */
    private static Sampler tpe() {
        return new TpeSampler(7, 2, 24, TpeSampler::defaultGamma);
    }

    private static Tuning.Spec spec(Path dir, int trials, boolean resume) {
        return new Tuning.Spec(settings(trials), dir, false, resume, 1, null, false, 1);
    }

    @Test
    void aResumedStudyRepeatsNoFinishedTrialRerunsTheKilledOneAndSamplesAsAFreshStudyWould(@TempDir Path tmp) throws Exception {
        // The reference: five trials without interruption.
        FakeTrials fresh = new FakeTrials(TuningTest::curve, n -> false);
        StudyResult whole = Tuning.run(spec(tmp.resolve("whole"), 5, false), tpe(), NEVER, fresh, s -> { });

        // The same study killed while trial 3 runs, with half a line written to study.jsonl and files in trial-3.
        Path dir = tmp.resolve("killed");
        FakeTrials first = new FakeTrials(TuningTest::curve, n -> false);
        first.killAt = 3;
        assertThrows(IllegalStateException.class, () -> Tuning.run(spec(dir, 5, false), tpe(), NEVER, first, s -> { }));
        assertEquals(List.of(0, 1, 2, 3), first.started);
        Files.writeString(dir.resolve("study.jsonl"), "{\"event\":\"intermediate\",\"trial\":3,\"st", StandardOpenOption.APPEND);
        Files.writeString(dir.resolve("trial-3").resolve("half-written.txt"), "from the killed run");
        List<TrialRecord> before = Tuning.readTrials(dir);
        assertEquals(TrialState.RUNNING, before.get(3).state());

        FakeTrials resumed = new FakeTrials(TuningTest::curve, n -> false);
        List<String> log = new ArrayList<>();
        StudyResult r = Tuning.run(spec(dir, 5, true), tpe(), NEVER, resumed, log::add);

        assertEquals(List.of(3, 4), resumed.started, "finished trials 0-2 are not run again");
        assertEquals(first.params.get(3), resumed.params.get(3), "the killed trial runs again with its parameters");
        assertFalse(Files.exists(dir.resolve("trial-3").resolve("half-written.txt")), "its half-written run dir was removed");
        assertTrue(log.stream().anyMatch(l -> l.contains("cut short")), "the torn line is reported: " + log);
        for (int n = 0; n < 5; n++) {
            assertEquals(whole.trials().get(n).params(), r.trials().get(n).params(), "trial " + n + " as in the fresh study");
            assertEquals(whole.trials().get(n).value(), r.trials().get(n).value());
        }
        // Trials 2, 3 and 4 were suggested by TPE from the history (not its random start-up): their equality
        // across the two studies is the replay, not chance.
        assertEquals(5, r.count(TrialState.COMPLETE));
        // The journal ends whole again (the torn tail was cut before appending) and reads back the same trials.
        List<String> lines = Files.readAllLines(dir.resolve("study.jsonl"));
        lines.forEach(l -> assertTrue(l.startsWith("{") && l.endsWith("}"), l));
        assertEquals(r.trials().stream().map(TrialRecord::value).toList(),
                Tuning.readTrials(dir).stream().map(TrialRecord::value).toList());
    }

    @Test
    void aResumeWithChangedSettingsIsRefused(@TempDir Path dir) {
        Tuning.run(spec(dir, 2, false), tpe(), NEVER, new FakeTrials(TuningTest::curve, n -> false), s -> { });
        StudySettings other = new StudySettings(SPACE, "eval_accuracy", Direction.MAXIMIZE, "tpe", 7, "none", 2, List.of("--epochs", "3"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tuning.run(
                new Tuning.Spec(other, dir, false, true, 1, null, false, 1), tpe(), NEVER,
                new FakeTrials(TuningTest::curve, n -> false), s -> { }));
        assertTrue(e.getMessage().contains("metric: eval_accuracy vs eval_f1"), e.getMessage());
        assertEquals(settings(2), Tuning.readSettings(dir), "the settings round-trip through study.jsonl");
    }

    @Test
    void aTrialThePrunerRejectsIsStoppedAndKeepsItsRecord(@TempDir Path dir) throws Exception {
        // Prune at the second evaluation when it is below 0.75: trials far from x = 0.3 (1 - 0.1 - d^2 < 0.75).
        Pruner below = (t, step, others, d) -> step == 2 && t.intermediate().get(2) < 0.75;
        Sampler fixed = (space, history, n, d) -> Map.of("x", List.of(0.3, 0.9, 0.35, 0.0).get(n));
        FakeTrials runner = new FakeTrials(TuningTest::curve, n -> false);
        StudyResult r = Tuning.run(spec(dir, 4, false), fixed, below, runner, s -> { });

        // x = 0.9: f = 1 - 0.36 = 0.64, second evaluation 0.54 < 0.75; x = 0.0: f = 0.91, second 0.81, kept.
        TrialRecord pruned = r.trials().get(1);
        assertEquals(TrialState.PRUNED, pruned.state());
        assertTrue(runner.handles.get(1).stopped, "the pruned trial was stopped");
        assertEquals(2, runner.handles.get(1).revealed, "and stopped at its second evaluation");
        assertEquals(List.of(0.44, 0.54), round(pruned.intermediate().values()));
        assertNull(pruned.value());
        assertEquals(2.0, pruned.epoch());
        for (int n : List.of(0, 2, 3)) {
            assertEquals(TrialState.COMPLETE, r.trials().get(n).state());
            assertEquals(3, r.trials().get(n).intermediate().size());
        }
        String journal = Files.readString(dir.resolve("study.jsonl"));
        assertTrue(journal.contains("\"trial\":1,\"state\":\"PRUNED\""), journal);
        assertEquals(2, journal.lines().filter(l -> l.contains("\"intermediate\",\"trial\":1,")).count());
    }

    @Test
    void aFailedTrialIsRecordedWithItsStderrAndTheStudyGoesOn(@TempDir Path dir) throws Exception {
        Sampler fixed = (space, history, n, d) -> Map.of("x", 0.1 * (n + 1));
        StudyResult r = Tuning.run(spec(dir, 4, false), fixed, NEVER, new FakeTrials(TuningTest::curve, n -> n == 1), s -> { });

        assertEquals(4, r.trials().size());
        assertEquals(TrialState.FAILED, r.trials().get(1).state());
        assertTrue(r.trials().get(1).error().contains("training diverged at step 11"));
        assertEquals(3, r.count(TrialState.COMPLETE));
        String md = Files.readString(dir.resolve("tune.md"));
        assertTrue(md.contains("**Trial 1 failed**") && md.contains("training diverged at step 11"), md);
    }

    @Test
    void parallelTrialsRunAtTheSameTime(@TempDir Path dir) {
        Sampler fixed = (space, history, n, d) -> Map.of("x", 0.2 * n);
        FakeTrials runner = new FakeTrials(TuningTest::curve, n -> false);
        Tuning.run(new Tuning.Spec(settings(4), dir, false, false, 2, null, false, 1), fixed, NEVER, runner, s -> { });

        FakeTrials.FakeHandle a = runner.handles.get(0);
        FakeTrials.FakeHandle b = runner.handles.get(1);
        assertTrue(b.startNanos < a.endNanos && a.startNanos < b.endNanos, "trials 0 and 1 overlap");
        assertEquals(List.of(0, 1, 2, 3), runner.started);
        // Each of K children gets its share of the cores for its intra-op threads.
        assertEquals(8, ChildJvmTrials.threadsPerTrial(16, 2));
        assertEquals(1, ChildJvmTrials.threadsPerTrial(2, 2));
        assertEquals(1, ChildJvmTrials.threadsPerTrial(2, 4));
        // The child's property replaces the parent's own -D value (the test JVM runs with -Dai.djl.offline=true).
        List<String> cmd = org.finetune4j.api.ChildJvm.command("Main", Map.of("ai.djl.offline", "false",
                ChildJvmTrials.NUM_THREADS, "1"), List.of("train"));
        assertEquals(1, cmd.stream().filter(arg -> arg.startsWith("-Dai.djl.offline=")).count(), cmd.toString());
        assertTrue(cmd.contains("-Dai.djl.offline=false") && cmd.contains("-Dai.djl.pytorch.num_threads=1"), cmd.toString());
        assertEquals(List.of("Main", "train"), cmd.subList(cmd.size() - 2, cmd.size()));
        // Every child learns its parent's pid, to end with it (ParentWatch).
        assertTrue(cmd.contains("-D" + org.finetune4j.api.ParentWatch.PARENT_PID + "=" + ProcessHandle.current().pid()), cmd.toString());
    }

    @Test
    void aKilledStudysTrialStillHoldingItsDirectoryIsWaitedFor(@TempDir Path dir) throws Exception {
        Path trial = Files.createDirectories(dir.resolve("trial-2"));
        // The killed study's trial JVM, still running for a moment: it holds the trial's run-directory lock.
        org.finetune4j.api.RunDirectory.Lock held = org.finetune4j.api.RunDirectory.lock(trial);
        Thread release = new Thread(() -> {
            try {
                Thread.sleep(700);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            held.close();
        });
        long t0 = System.nanoTime();
        release.start();
        Tuning.awaitUnlocked(trial);
        double waited = (System.nanoTime() - t0) / 1e9;
        release.join();
        assertTrue(waited >= 0.65, "returned only once the lock was free, after " + waited + " s");
        Tuning.awaitUnlocked(dir.resolve("trial-9")); // no such directory: nothing to wait for
    }

    @Test
    void resultsAreSortedByTheObjectiveAndOnlyTheBestKeepsItsWeights(@TempDir Path tmp) throws Exception {
        Sampler fixed = (space, history, n, d) -> Map.of("x", List.of(0.9, 0.25, 0.5, 0.0).get(n));
        Path dir = tmp.resolve("study");
        StudyResult r = Tuning.run(spec(dir, 4, false), fixed, NEVER, new FakeTrials(TuningTest::curve, n -> false), s -> { });

        // f = 1 - (x - 0.3)^2: x = 0.25 -> 0.9975, 0.5 -> 0.96, 0.0 -> 0.91, 0.9 -> 0.64.
        assertEquals(List.of(1, 2, 3, 0), r.sorted().stream().map(TrialRecord::number).toList());
        JsonNode json = JSON.readTree(dir.resolve("tune.json").toFile());
        assertEquals(1, json.get("best").get("trial").asInt());
        assertEquals(0.9975, json.get("best").get("value").asDouble(), 1e-12);
        assertEquals(0.25, json.get("best").get("params").get("x").asDouble());
        List<Integer> order = new ArrayList<>();
        json.get("trials").forEach(t -> order.add(t.get("trial").asInt()));
        assertEquals(List.of(1, 2, 3, 0), order);
        String md = Files.readString(dir.resolve("tune.md"));
        assertTrue(md.contains("## Best: trial 1, eval_f1 = 0.9975"), md);
        assertTrue(md.indexOf("| 1 | COMPLETE | 0.9975 |") < md.indexOf("| 0 | COMPLETE | 0.6400 |"), md);

        assertTrue(Files.exists(dir.resolve("trial-1/model.safetensors")) && Files.exists(dir.resolve("trial-1/checkpoint-10")));
        for (int n : List.of(0, 2, 3)) {
            assertFalse(Files.exists(dir.resolve("trial-" + n + "/model.safetensors")), "trial " + n + " weights deleted");
            assertFalse(Files.exists(dir.resolve("trial-" + n + "/checkpoint-10")));
            assertTrue(Files.exists(dir.resolve("trial-" + n + "/run_config.json")), "its config stays");
        }
        assertTrue(Files.isRegularFile(dir.resolve("report.html")));
        assertTrue(Files.isRegularFile(dir.resolve("tune_objective.png")) && Files.isRegularFile(dir.resolve("tune_param_x.png"))
                && Files.isRegularFile(dir.resolve("tune_intermediate.png")));

        Path all = tmp.resolve("keep-all");
        Tuning.run(new Tuning.Spec(settings(4), all, false, false, 1, null, true, 1), fixed, NEVER,
                new FakeTrials(TuningTest::curve, n -> false), s -> { });
        for (int n = 0; n < 4; n++) {
            assertTrue(Files.exists(all.resolve("trial-" + n + "/model.safetensors")), "--keep-all keeps trial " + n);
        }
    }

    @Test
    void aMinimisedObjectiveSortsAscending(@TempDir Path dir) {
        StudySettings s = new StudySettings(SPACE, "eval_loss", Direction.MINIMIZE, "random", 1, "none", 3, List.of());
        Sampler fixed = (space, history, n, d) -> Map.of("x", List.of(0.9, 0.3, 0.5).get(n));
        StudyResult r = Tuning.run(new Tuning.Spec(s, dir, false, false, 1, null, false, 1), fixed, NEVER,
                new FakeTrials(TuningTest::curve, n -> false), x -> { });
        // eval_loss = 1 - f = (x - 0.3)^2: 0 at x = 0.3.
        assertEquals(List.of(1, 2, 0), r.sorted().stream().map(TrialRecord::number).toList());
        assertEquals(0.0, r.best().value(), 1e-12);
        assertEquals(Direction.MINIMIZE, StudySettings.defaultDirection("eval_loss"));
        assertEquals(Direction.MAXIMIZE, StudySettings.defaultDirection("eval_f1"));
    }

    @Test
    void aStudyDirectoryIsNotReusedWithoutOverwriteOrResume(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("notes.txt"), "mine");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tuning.run(
                new Tuning.Spec(settings(1), dir, true, false, 1, null, false, 1), tpe(), NEVER,
                new FakeTrials(TuningTest::curve, n -> false), s -> { }));
        assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());
        assertEquals("mine", Files.readString(dir.resolve("notes.txt"), StandardCharsets.UTF_8));
    }

    private static List<Double> round(java.util.Collection<Double> values) {
        return values.stream().map(v -> Math.round(v * 1e9) / 1e9).toList();
    }
}
