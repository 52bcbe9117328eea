package org.finetune4j.tune;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What a study is: the space it searches, the objective, how it samples and prunes, how many trials, and the
 * training arguments every trial shares. Written as the first line of {@code study.jsonl}, so a resumed study
 * needs nothing else, and compared field by field when a resume names settings of its own.
 *
 * @param space the parameters searched
 * @param metric the objective: a key of the evaluation records and {@code eval_results.json}, e.g. {@code eval_f1}
 * @param direction whether the metric is maximised or minimised
 * @param sampler the sampler's name (random, grid, tpe)
 * @param samplerSeed the sampler's seed
 * @param pruner the pruner's name (none, median, asha)
 * @param trials how many trials the study runs in all (failed and pruned ones count)
 * @param trainArgs the arguments every trial's training gets besides its parameters (the command line's
 *     {@code train} options; opaque to the study)
 */
public record StudySettings(SearchSpace space, String metric, Direction direction, String sampler, long samplerSeed,
        String pruner, int trials, List<String> trainArgs) {
    public StudySettings {
        Objects.requireNonNull(space, "space");
        if (space.params().isEmpty()) {
            throw new IllegalArgumentException("the search space is empty: give at least one --space name=distribution");
        }
        if (metric == null || metric.isBlank()) {
            throw new IllegalArgumentException("--metric is empty: name an evaluation metric such as eval_loss or eval_f1");
        }
        Objects.requireNonNull(direction, "direction");
        if (trials < 1) {
            throw new IllegalArgumentException("--trials must be at least 1, got " + trials);
        }
        trainArgs = List.copyOf(trainArgs);
    }

    /**
     * The direction a metric is optimised in when none is given: minimise a loss, maximise anything else (as
     * transformers' {@code greater_is_better} follows {@code metric_for_best_model}).
     */
    public static Direction defaultDirection(String metric) {
        return metric.endsWith("loss") ? Direction.MINIMIZE : Direction.MAXIMIZE;
    }

    /** As the first line of {@code study.jsonl} holds it (without its "event" key). */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> dims = new LinkedHashMap<>();
        space.params().forEach((name, d) -> dims.put(name, distributionJson(d)));
        m.put("space", dims);
        m.put("metric", metric);
        m.put("direction", direction.name().toLowerCase(Locale.ROOT));
        m.put("sampler", sampler);
        m.put("sampler_seed", samplerSeed);
        m.put("pruner", pruner);
        m.put("trials", trials);
        m.put("train_args", trainArgs);
        return m;
    }

    /** Reads {@link #toJson()}'s map back (numbers as Jackson reads them: Integer, Long or Double). */
    @SuppressWarnings("unchecked")
    public static StudySettings fromJson(Map<String, Object> m) {
        Map<String, Distribution> dims = new LinkedHashMap<>();
        ((Map<String, Object>) m.get("space")).forEach((name, d) -> dims.put(name, distribution((Map<String, Object>) d)));
        return new StudySettings(new SearchSpace(dims), (String) m.get("metric"),
                Direction.valueOf(((String) m.get("direction")).toUpperCase(Locale.ROOT)), (String) m.get("sampler"),
                ((Number) m.get("sampler_seed")).longValue(), (String) m.get("pruner"), ((Number) m.get("trials")).intValue(),
                new ArrayList<>((List<String>) m.get("train_args")));
    }

    /** The settings that differ from {@code other}'s, as "name: this vs other" lines; empty when none do. */
    public List<String> differences(StudySettings other) {
        Map<String, Object> a = toJson();
        Map<String, Object> b = other.toJson();
        List<String> diffs = new ArrayList<>();
        a.forEach((k, v) -> {
            if (!Objects.equals(String.valueOf(v), String.valueOf(b.get(k)))) {
                diffs.add(k + ": " + v + " vs " + b.get(k));
            }
        });
        return diffs;
    }

    static Map<String, Object> distributionJson(Distribution d) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (d instanceof Distribution.Uniform u) {
            m.put("type", "uniform");
            m.put("low", u.low());
            m.put("high", u.high());
        } else if (d instanceof Distribution.LogUniform u) {
            m.put("type", "loguniform");
            m.put("low", u.low());
            m.put("high", u.high());
        } else if (d instanceof Distribution.IntRange r) {
            m.put("type", "int");
            m.put("low", r.low());
            m.put("high", r.high());
            m.put("step", r.step());
            m.put("log", r.log());
        } else if (d instanceof Distribution.Categorical c) {
            m.put("type", "choice");
            m.put("values", c.choices());
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    static Distribution distribution(Map<String, Object> m) {
        String type = (String) m.get("type");
        return switch (type) {
            case "uniform" -> new Distribution.Uniform(num(m, "low"), num(m, "high"));
            case "loguniform" -> new Distribution.LogUniform(num(m, "low"), num(m, "high"));
            case "int" -> new Distribution.IntRange((int) num(m, "low"), (int) num(m, "high"), (int) num(m, "step"),
                    Boolean.TRUE.equals(m.get("log")));
            case "choice" -> new Distribution.Categorical(new ArrayList<>((List<Object>) m.get("values")));
            default -> throw new IllegalArgumentException("unknown distribution type \"" + type + "\" in the study settings");
        };
    }

    private static double num(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).doubleValue();
    }
}
