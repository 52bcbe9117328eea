package org.finetune4j.tune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.report.ReportWriter;
import org.finetune4j.report.TuneReport;

/**
 * A study's trials and what they show: the table sorted by the objective, the best parameters, and the
 * files that hold them ({@code tune.md}, {@code tune.json}, {@code report.html}).
 *
 * @param trials every trial, in number order
 * @param refit the directory of the best configuration retrained on training and validation data, or null
 * @param stopped why the study started fewer trials than it was to (its --timeout), or null
 */
public record StudyResult(StudySettings settings, Path output, List<TrialRecord> trials, Path refit, String stopped) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public StudyResult(StudySettings settings, Path output, List<TrialRecord> trials) {
        this(settings, output, trials, null, null);
    }

    public StudyResult {
        trials = List.copyOf(trials);
    }

    /** The same study with its refit model's directory. */
    public StudyResult withRefit(Path dir) {
        return new StudyResult(settings, output, trials, dir, stopped);
    }

    /** The complete trial with the best objective (the earliest among equals), or null when none completed. */
    public TrialRecord best() {
        return best(trials, settings.direction());
    }

    static TrialRecord best(Collection<TrialRecord> trials, Direction direction) {
        TrialRecord best = null;
        for (TrialRecord t : trials) {
            if (t.state() == TrialState.COMPLETE && (best == null || direction.better(t.value(), best.value()))) {
                best = t;
            }
        }
        return best;
    }

    public long count(TrialState state) {
        return trials.stream().filter(t -> t.state() == state).count();
    }

    /**
     * The trials best first: complete ones by their objective, then pruned ones by the last value they
     * reached, then failed and unfinished ones, each group by trial number among equals.
     */
    public List<TrialRecord> sorted() {
        Comparator<Double> byValue = (a, b) -> a == null && b == null ? 0 : a == null ? 1 : b == null ? -1
                : settings.direction() == Direction.MAXIMIZE ? Double.compare(b, a) : Double.compare(a, b);
        Comparator<TrialRecord> order = Comparator.comparingInt((TrialRecord t) -> rank(t.state()))
                .thenComparing(t -> t.state() == TrialState.COMPLETE ? t.value() : t.lastIntermediate(), byValue)
                .thenComparingInt(TrialRecord::number);
        return trials.stream().sorted(order).toList();
    }

    private static int rank(TrialState s) {
        return switch (s) {
            case COMPLETE -> 0;
            case PRUNED -> 1;
            case FAILED -> 2;
            case RUNNING -> 3;
        };
    }

    public String toMarkdown() {
        StringBuilder sb = new StringBuilder("# Hyperparameter study\n\n");
        sb.append(String.format(Locale.ROOT, "Objective `%s` (%s). Sampler %s (seed %d), pruner %s. %d of %d trials run:"
                + " %d complete, %d pruned, %d failed.%n%n", settings.metric(), settings.direction().name().toLowerCase(Locale.ROOT),
                settings.sampler(), settings.samplerSeed(), settings.pruner(), trials.size(), settings.trials(),
                count(TrialState.COMPLETE), count(TrialState.PRUNED), count(TrialState.FAILED)));
        if (stopped != null) {
            sb.append("**Stopped early**: ").append(stopped).append("\n\n");
        }
        if (!settings.trainArgs().isEmpty()) {
            sb.append("Every trial: `train ").append(String.join(" ", settings.trainArgs())).append("`\n\n");
        }
        TrialRecord best = best();
        if (best == null) {
            sb.append("**No trial completed**, so there are no best parameters.\n\n");
        } else {
            sb.append("## Best: trial ").append(best.number()).append(", ").append(settings.metric()).append(" = ")
                    .append(fmt(best.value())).append("\n\n");
            best.params().forEach((k, v) -> sb.append("- `").append(k).append("` = ").append(formatValue(v)).append('\n'));
            sb.append("\nIts run directory `").append(output.relativize(best.runDir())).append("` is kept whole; ")
                    .append("the other trials keep their metrics and configs").append(".\n\n");
        }
        if (refit != null) {
            sb.append("## Refit\n\n").append(refitNote(refit)).append("\n\n");
        }
        List<String> names = new ArrayList<>(settings.space().params().keySet());
        List<String> header = new ArrayList<>(List.of("trial", "state", settings.metric()));
        header.addAll(names);
        header.addAll(List.of("epoch", "step", "wall s", "peak RSS MB"));
        sb.append("## Trials, best first\n\n| ").append(String.join(" | ", header)).append(" |\n|")
                .append("---|".repeat(header.size())).append('\n');
        for (TrialRecord t : sorted()) {
            List<String> cells = new ArrayList<>();
            cells.add(Integer.toString(t.number()));
            cells.add(t.state().name());
            cells.add(t.state() == TrialState.COMPLETE ? fmt(t.value())
                    : t.lastIntermediate() != null ? "(" + fmt(t.lastIntermediate()) + " at evaluation " + t.intermediate().lastKey() + ")"
                    : "");
            names.forEach(n -> cells.add(formatValue(t.params().get(n))));
            cells.add(t.epoch() == null ? "" : fmtFixed(t.epoch(), 2));
            cells.add(t.step() == null ? "" : Long.toString(t.step()));
            cells.add(Double.isNaN(t.wallSeconds()) ? "" : fmtFixed(t.wallSeconds(), 1));
            cells.add(t.peakRssMb() < 0 ? "" : fmtFixed(t.peakRssMb(), 0));
            sb.append("| ").append(String.join(" | ", cells)).append(" |\n");
        }
        sb.append("\nA pruned trial's value in parentheses is the last intermediate value it reached, not a result.\n");
        for (TrialRecord t : trials) {
            if (t.state() == TrialState.FAILED) {
                sb.append("\n**Trial ").append(t.number()).append(" failed**; the end of its stderr (all of it in `logs/`):\n\n```\n")
                        .append(t.error()).append("\n```\n");
            }
        }
        return sb.toString();
    }

    /** What a refit model is, and what it is not: its validation data was trained on. */
    public static String refitNote(Path dir) {
        return "The best parameters were retrained on the training and validation data together into " + dir + ". The"
                + " study's validation metric does not apply to this model: it has seen that data. Only a held-out test"
                + " set, if there is one, measures it.";
    }

    public String toJson() {
        Map<String, Object> all = new LinkedHashMap<>();
        all.put("settings", settings.toJson());
        TrialRecord best = best();
        if (best != null) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("trial", best.number());
            b.put("value", best.value());
            b.put("params", best.params());
            b.put("run_dir", best.runDir().toString());
            all.put("best", b);
        } else {
            all.put("best", null);
        }
        all.put("refit", refit == null ? null : refit.toString());
        all.put("stopped", stopped);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (TrialRecord t : sorted()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("trial", t.number());
            r.put("state", t.state().name());
            r.put("value", t.value());
            r.put("params", t.params());
            Map<String, Double> inter = new LinkedHashMap<>();
            t.intermediate().forEach((k, v) -> inter.put(Integer.toString(k), v));
            r.put("intermediate", inter);
            r.put("epoch", t.epoch());
            r.put("step", t.step());
            r.put("wall_seconds", Double.isNaN(t.wallSeconds()) ? null : t.wallSeconds());
            r.put("peak_rss_mb", t.peakRssMb() < 0 ? null : t.peakRssMb());
            r.put("pid", t.pid());
            r.put("started", t.started() == null ? null : t.started().toString());
            r.put("finished", t.finished() == null ? null : t.finished().toString());
            r.put("run_dir", t.runDir().toString());
            r.put("error", t.error());
            rows.add(r);
        }
        all.put("trials", rows);
        try {
            return JSON.writeValueAsString(all);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The HTML report's data. */
    public TuneReport toReport() {
        List<TuneReport.Point> points = new ArrayList<>();
        for (TrialRecord t : trials) {
            points.add(new TuneReport.Point(t.number(), t.state().name(), t.value(), t.params(), t.intermediate()));
        }
        Map<String, Boolean> logScale = new LinkedHashMap<>();
        settings.space().params().forEach((n, d) -> logScale.put(n, d instanceof Distribution.LogUniform
                || d instanceof Distribution.IntRange r && r.log()));
        TrialRecord best = best();
        return new TuneReport(settings.metric(), settings.direction() == Direction.MAXIMIZE, logScale, points,
                best == null ? null : best.number(), refit == null ? null : refitNote(refit));
    }

    /** Writes tune.md, tune.json and report.html with its charts into the study directory. */
    public static void write(StudyResult r) {
        AtomicFiles.writeString(r.output().resolve(Tuning.MARKDOWN), r.toMarkdown());
        AtomicFiles.writeString(r.output().resolve(Tuning.JSON_FILE), r.toJson());
        ReportWriter.write(r.output(), r.toReport());
    }

    static String formatParams(Map<String, Object> params) {
        List<String> parts = new ArrayList<>();
        params.forEach((k, v) -> parts.add(k + "=" + formatValue(v)));
        return String.join(", ", parts);
    }

    /** A parameter as the command line would take it: small floats in scientific notation. */
    static String formatValue(Object v) {
        if (v instanceof Double d) {
            double a = Math.abs(d);
            return a != 0 && (a < 1e-3 || a >= 1e5) ? String.format(Locale.ROOT, "%.3e", d) : String.format(Locale.ROOT, "%.4g", d);
        }
        return String.valueOf(v);
    }

    static String fmt(Double v) {
        return v == null ? "" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String fmtFixed(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
