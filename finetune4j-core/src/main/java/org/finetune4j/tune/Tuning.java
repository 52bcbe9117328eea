package org.finetune4j.tune;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.finetune4j.api.RunDirectory;

/**
 * A hyperparameter study: trials of a training run with parameters a {@link Sampler} chooses, each trained
 * by a {@link TrialRunner} in its own run directory ({@code <output>/trial-<n>}), stopped early when a
 * {@link Pruner} judges its evaluations hopeless, and recorded event by event in {@code study.jsonl}
 * ({@link StudyJournal}) so that a killed study resumes where it was.
 *
 * <p>Resuming: finished trials are kept as recorded and never run again. A trial that was started but never
 * finished (the study was killed while it ran) is run again from the start with the same parameters, in a
 * fresh run directory (its half-written one is removed first): its partial evaluations are not a result, and
 * re-running it keeps the trial sequence that of an uninterrupted study. New trials are then sampled from the
 * whole history, exactly as an uninterrupted study would have sampled them (samplers are pure functions of
 * seed, history and trial number; with {@code parallel > 1} the history a trial sees depends on which trials
 * finished first, so only a sequential study is reproducible trial for trial).
 *
 * <p>After each trial, the weights of every finished trial but the best so far (its {@code *.safetensors},
 * {@code checkpoint-*} and {@code merged} directories) are deleted unless {@link Spec#keepAll}; their metrics
 * and configs stay.
 */
public final class Tuning {
    /** How often running trials are polled for new evaluations and exits. */
    public static final long DEFAULT_POLL_MILLIS = 500;
    /** How long a resumed study waits for a killed study's trial to end before it re-runs that trial. */
    static final Duration RERUN_LOCK_WAIT = Duration.ofSeconds(30);
    static final String MARKDOWN = "tune.md";
    static final String JSON_FILE = "tune.json";

    private Tuning() {
    }

    /**
     * A study to run or resume.
     *
     * @param settings what the study is (for a resume, it must match the journal's except for {@code trials})
     * @param output the study directory
     * @param overwrite replace an earlier study in {@code output}
     * @param resume continue the study in {@code output}
     * @param parallel how many trials run at once
     * @param timeout no trial starts after this much time since this run began; null: no limit
     * @param keepAll keep every trial's weights, not only the best's
     * @param pollMillis how often running trials are polled
     */
    public record Spec(StudySettings settings, Path output, boolean overwrite, boolean resume, int parallel,
            Duration timeout, boolean keepAll, long pollMillis) {
        public Spec {
            Objects.requireNonNull(settings, "settings");
            Objects.requireNonNull(output, "output");
            if (parallel < 1) {
                throw new IllegalArgumentException("--parallel must be at least 1, got " + parallel);
            }
            if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
                throw new IllegalArgumentException("--timeout must be positive, got " + timeout);
            }
            if (overwrite && resume) {
                throw new IllegalArgumentException("--overwrite and --resume contradict each other: choose one");
            }
            if (pollMillis < 1) {
                throw new IllegalArgumentException("pollMillis must be positive");
            }
        }
    }

    /** The settings recorded in the study directory {@code dir} (what {@code --resume} continues). */
    public static StudySettings readSettings(Path dir) {
        return StudyJournal.read(dir).settings();
    }

    /** Every trial recorded in the study directory {@code dir}, in number order (unfinished ones RUNNING). */
    public static List<TrialRecord> readTrials(Path dir) {
        return StudyJournal.read(dir).trials();
    }

    /** Runs (or resumes) the study and writes its results ({@code tune.md}, {@code tune.json}, {@code report.html}). */
    public static StudyResult run(Spec spec, Sampler sampler, Pruner pruner, TrialRunner runner, Consumer<String> log) {
        try (RunDirectory.Lock lock = RunDirectory.lock(spec.output())) {
            StudyResult result = new Study(spec, sampler, pruner, runner, log).run();
            StudyResult.write(result);
            return result;
        }
    }

    /** One run of a study: the loop that starts, polls, prunes and collects trials. */
    private static final class Study {
        private final Spec spec;
        private final StudySettings settings;
        private final Sampler sampler;
        private final Pruner pruner;
        private final TrialRunner runner;
        private final Consumer<String> log;
        /** Every trial, finished or running, by number. */
        private final TreeMap<Integer, TrialRecord> trials = new TreeMap<>();
        private final Map<Integer, Active> running = new LinkedHashMap<>();
        /** Trials started by a killed study and never finished: run again first. */
        private final Deque<TrialRecord> reruns = new ArrayDeque<>();
        private int nextNumber;
        private StudyJournal journal;

        Study(Spec spec, Sampler sampler, Pruner pruner, TrialRunner runner, Consumer<String> log) {
            this.spec = spec;
            this.settings = spec.settings();
            this.sampler = sampler;
            this.pruner = pruner;
            this.runner = runner;
            this.log = log;
        }

        StudyResult run() {
            journal = spec.resume() ? openResumed() : openNew();
            Instant deadline = spec.timeout() == null ? null : Instant.now().plus(spec.timeout());
            String stopped = null;
            try (StudyJournal j = journal) {
                while (true) {
                    boolean timedOut = deadline != null && Instant.now().isAfter(deadline);
                    while (!timedOut && running.size() < spec.parallel() && (!reruns.isEmpty() || nextNumber < settings.trials())) {
                        startNext();
                    }
                    if (running.isEmpty()) {
                        if (timedOut && nextNumber < settings.trials()) {
                            stopped = "the --timeout of " + describe(spec.timeout()) + " was reached, so no trial started after"
                                    + " it; " + finishedCount() + " of " + settings.trials() + " trials done. `tune --resume "
                                    + spec.output() + "` runs the other " + (settings.trials() - nextNumber) + ".";
                            log.accept(stopped);
                        }
                        break;
                    }
                    sleep(spec.pollMillis());
                    for (Active a : List.copyOf(running.values())) {
                        poll(a);
                    }
                }
            } finally {
                for (Active a : running.values()) {
                    a.handle.stop(); // an error or interrupt ends the study; no trial outlives it
                }
            }
            return new StudyResult(settings, spec.output(), List.copyOf(trials.values()), null, stopped);
        }

        private StudyJournal openNew() {
            prepareOutput(spec.output(), spec.overwrite());
            return StudyJournal.create(spec.output(), settings);
        }

        private StudyJournal openResumed() {
            StudyJournal.Replay replay = StudyJournal.read(spec.output());
            List<String> diffs = new ArrayList<>(settings.differences(replay.settings()));
            diffs.removeIf(d -> d.startsWith("trials:"));
            if (!diffs.isEmpty()) {
                throw new IllegalArgumentException("--resume " + spec.output() + ": these settings differ from the study's"
                        + " (given vs recorded): " + String.join("; ", diffs) + ". Drop them to continue the study as it"
                        + " was, or start a new study in another --output.");
            }
            if (replay.tornLastLine()) {
                log.accept("study.jsonl ended in a line cut short by a kill; it is dropped");
            }
            for (TrialRecord r : replay.trials()) {
                trials.put(r.number(), r);
                if (!r.state().finished()) {
                    reruns.add(r);
                }
                nextNumber = Math.max(nextNumber, r.number() + 1);
            }
            log.accept("resuming " + spec.output() + ": " + finishedCount() + " trials finished"
                    + (reruns.isEmpty() ? "" : ", " + reruns.size() + " unfinished to run again with the same parameters"));
            return StudyJournal.append(spec.output());
        }

        private void startNext() {
            int number;
            Map<String, Object> params;
            if (!reruns.isEmpty()) {
                TrialRecord r = reruns.poll();
                number = r.number();
                params = r.params();
                awaitUnlocked(r.runDir());
                deleteTree(r.runDir()); // half-written by the killed study
            } else {
                number = nextNumber++;
                params = ordered(sampler.sample(settings.space(), history(), number, settings.direction()));
            }
            Path runDir = StudyJournal.runDir(spec.output(), number);
            Instant started = Instant.now();
            journal.started(number, params, started);
            TrialRecord r = new TrialRecord(number, params, TrialState.RUNNING, null, new TreeMap<>(), runDir, started, null,
                    Double.NaN, -1, null, null, -1, null);
            trials.put(number, r);
            TrialRunner.Handle handle = runner.start(number, params, runDir);
            running.put(number, new Active(r, handle));
            log.accept(String.format(Locale.ROOT, "[%d/%d] trial %d started (pid %d): %s", number + 1, settings.trials(),
                    number, handle.pid(), StudyResult.formatParams(params)));
        }

        /** The sampler's values in the space's order, each checked to be there. */
        private Map<String, Object> ordered(Map<String, Object> sampled) {
            Map<String, Object> params = new LinkedHashMap<>();
            for (String name : settings.space().params().keySet()) {
                if (!sampled.containsKey(name)) {
                    throw new IllegalStateException("the " + settings.sampler() + " sampler gave no value for " + name);
                }
                params.put(name, sampled.get(name));
            }
            return params;
        }

        private List<Trial> history() {
            return trials.values().stream().map(TrialRecord::trial).toList();
        }

        private void poll(Active a) {
            boolean alive = a.handle.isAlive(); // before reading: evaluations read after an exit are all there are
            List<Map<String, Object>> evaluations = a.handle.evaluations();
            for (int k = a.intermediate.size() + a.skipped + 1; k <= evaluations.size(); k++) {
                Map<String, Object> rec = evaluations.get(k - 1);
                a.epoch = number(rec.get("epoch"));
                a.step = rec.get("step") instanceof Number n ? n.longValue() : a.step;
                if (!(rec.get(settings.metric()) instanceof Number value)) {
                    a.skipped++;
                    continue; // no objective in this evaluation: nothing for the pruner
                }
                a.intermediate.put(k, value.doubleValue());
                journal.intermediate(a.record.number(), k, value.doubleValue(), a.epoch, a.step);
                update(a, TrialState.RUNNING, null);
                if (alive && pruner.shouldPrune(trials.get(a.record.number()).trial(), k, others(a), settings.direction())) {
                    a.handle.stop();
                    finish(a, TrialState.PRUNED, null, null);
                    return;
                }
            }
            if (!alive) {
                TrialRunner.Outcome o = a.handle.outcome();
                a.outcome = o;
                a.epoch = o.epoch() != null ? o.epoch() : a.epoch;
                a.step = o.step() != null ? o.step() : a.step;
                if (o.exitCode() != 0) {
                    finish(a, TrialState.FAILED, null, o.error() != null ? o.error() : "exit code " + o.exitCode());
                    return;
                }
                Double value = o.finalMetrics().get(settings.metric());
                if (value == null) {
                    if (!o.finalMetrics().isEmpty()) {
                        throw new IllegalArgumentException("--metric " + settings.metric() + " is not among the evaluation"
                                + " metrics of trial " + a.record.number() + " (" + String.join(", ", o.finalMetrics().keySet())
                                + "); choose one of them");
                    }
                    finish(a, TrialState.FAILED, null, "the run wrote no validation metrics (eval_results.json); tuning needs"
                            + " a validation set (--validation or --split)");
                } else if (!Double.isFinite(value)) {
                    finish(a, TrialState.FAILED, null, settings.metric() + " is " + value);
                } else {
                    finish(a, TrialState.COMPLETE, value, null);
                }
            }
        }

        private List<Trial> others(Active a) {
            return trials.values().stream().filter(t -> t.number() != a.record.number()).map(TrialRecord::trial).toList();
        }

        private void update(Active a, TrialState state, Double value) {
            TrialRecord r = a.record;
            trials.put(r.number(), new TrialRecord(r.number(), r.params(), state, value, a.intermediate, r.runDir(), r.started(),
                    null, Double.NaN, -1, a.epoch, a.step, a.handle.pid(), null));
        }

        private void finish(Active a, TrialState state, Double value, String error) {
            TrialRunner.Outcome o = a.outcome != null ? a.outcome : a.handle.outcome();
            TrialRecord r = a.record;
            Instant end = Instant.now();
            TrialRecord done = new TrialRecord(r.number(), r.params(), state, value, a.intermediate, r.runDir(), r.started(),
                    end, o.wallSeconds(), o.peakRssMb(), a.epoch, a.step, a.handle.pid(), error);
            trials.put(r.number(), done);
            running.remove(r.number());
            journal.finished(done);
            TrialRecord best = StudyResult.best(trials.values(), settings.direction());
            if (!spec.keepAll()) {
                deleteWeightsExcept(best);
            }
            log.accept(progressLine(done, best));
        }

        private String progressLine(TrialRecord t, TrialRecord best) {
            String value = t.state() == TrialState.COMPLETE ? settings.metric() + "=" + StudyResult.fmt(t.value())
                    : t.state() == TrialState.PRUNED ? "pruned at evaluation " + (t.intermediate().isEmpty() ? 0
                            : t.intermediate().lastKey()) + " (" + StudyResult.fmt(t.lastIntermediate()) + ")"
                    : "FAILED: " + lastLine(t.error());
            return String.format(Locale.ROOT, "[%d/%d] trial %d %s %s; %s; %.1f s; best %s", t.number() + 1, settings.trials(),
                    t.number(), t.state(), StudyResult.formatParams(t.params()), value, t.wallSeconds(),
                    best == null ? "none yet" : StudyResult.fmt(best.value()) + " (trial " + best.number() + ")");
        }

        private void deleteWeightsExcept(TrialRecord best) {
            for (TrialRecord t : trials.values()) {
                if (t.state().finished() && (best == null || t.number() != best.number())) {
                    deleteWeights(t.runDir());
                }
            }
        }

        private long finishedCount() {
            return trials.values().stream().filter(t -> t.state().finished()).count();
        }
    }

    /** A running trial and what has been read of it. */
    private static final class Active {
        final TrialRecord record;
        final TrialRunner.Handle handle;
        final TreeMap<Integer, Double> intermediate = new TreeMap<>();
        int skipped;
        Double epoch;
        Long step;
        TrialRunner.Outcome outcome;

        Active(TrialRecord record, TrialRunner.Handle handle) {
            this.record = record;
            this.handle = handle;
        }
    }

    /**
     * Deletes a run's weights: model and adapter safetensors (and shards), checkpoints, a merged model.
     * Metrics, configs and reports stay.
     */
    static void deleteWeights(Path runDir) {
        if (!Files.isDirectory(runDir)) {
            return;
        }
        try (var s = Files.list(runDir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.endsWith(".safetensors") || n.equals("model.safetensors.index.json") || n.equals("merged")
                        || n.matches("\\.?checkpoint-\\d+(\\.tmp)?")) {
                    deleteTree(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the weights in " + runDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Waits until no process holds the run-directory lock of a killed study's trial. The trial's own JVM may
     * outlive the study for a moment (it notices its parent is gone within {@code ParentWatch}'s poll, then
     * halts); re-running the trial before then would race it for the same directory.
     */
    static void awaitUnlocked(Path runDir) {
        long deadline = System.nanoTime() + RERUN_LOCK_WAIT.toNanos();
        while (Files.isDirectory(runDir)) {
            try (RunDirectory.Lock free = RunDirectory.lock(runDir)) {
                return;
            } catch (IllegalArgumentException inUse) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalArgumentException("cannot run trial " + runDir.getFileName() + " again: " + inUse.getMessage()
                            + " That is the killed study's trial, still running after " + RERUN_LOCK_WAIT.toSeconds()
                            + " s: stop it, then --resume again.", inUse);
                }
                sleep(200);
            }
        }
    }

    /** Names a study writes in its directory; --overwrite deletes these and refuses a directory holding anything else. */
    static boolean isStudyEntry(String name) {
        return name.equals(StudyJournal.FILE) || name.equals(MARKDOWN) || name.equals(JSON_FILE) || name.equals("report.html")
                || name.equals("logs") || name.equals("refit") || name.matches("trial-\\d+") || name.matches("[a-z_]+\\.png")
                || name.equals(RunDirectory.LOCK_FILE);
    }

    static void prepareOutput(Path dir, boolean overwrite) {
        List<String> names;
        try (var s = Files.list(dir)) {
            names = s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(RunDirectory.LOCK_FILE)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        if (names.isEmpty()) {
            return;
        }
        if (!overwrite) {
            throw new IllegalArgumentException("the output directory " + dir + " is not empty (" + String.join(", ",
                    names.subList(0, Math.min(5, names.size()))) + (names.size() > 5 ? ", ..." : "") + "). Choose a new"
                    + " --output, add --resume " + dir + " to continue a study there, or --overwrite to replace it.");
        }
        List<String> foreign = names.stream().filter(n -> !isStudyEntry(n)).toList();
        if (!foreign.isEmpty()) {
            throw new IllegalArgumentException("--overwrite refused: " + dir + " holds files a study does not write ("
                    + String.join(", ", foreign) + "). Move them away or choose another --output.");
        }
        names.forEach(n -> deleteTree(dir.resolve(n)));
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p + ": " + e.getMessage(), e);
        }
    }

    /** 90 s, 15 min, 2 h: a timeout as a person writes it. */
    static String describe(Duration d) {
        long s = d.toSeconds();
        if (s >= 3600 && s % 3600 == 0) {
            return s / 3600 + " h";
        }
        if (s >= 60 && s % 60 == 0) {
            return s / 60 + " min";
        }
        return s >= 1 && d.toMillis() % 1000 == 0 ? s + " s" : d.toMillis() + " ms";
    }

    private static Double number(Object o) {
        return o instanceof Number n ? n.doubleValue() : null;
    }

    private static String lastLine(String text) {
        if (text == null) {
            return "";
        }
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1];
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("the study was interrupted; --resume continues it", e);
        }
    }
}
