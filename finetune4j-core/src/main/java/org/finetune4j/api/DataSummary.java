package org.finetune4j.api;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.finetune4j.config.EncoderConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.data.DataReader;
import org.finetune4j.data.Dataset;
import org.finetune4j.data.DatasetStats;
import org.finetune4j.data.Deduplicator;
import org.finetune4j.data.LabelMode;
import org.finetune4j.data.LengthDistribution;
import org.finetune4j.data.ReadOptions;
import org.finetune4j.data.TextCleaner;
import org.finetune4j.text.TextTokenizer;

/**
 * What the {@code stats} command prints about a data file before training on it: the
 * {@link DatasetStats} (class balance, token and word lengths, a suggested max_length) and how many
 * texts training would drop as empty or duplicate. Every row counts in the distributions, as read and
 * cleaned; training later drops the empty and duplicate ones.
 *
 * @param stats class balance and length distributions of every row after cleaning
 * @param emptyTexts rows whose text (or pair) is empty or blank after cleaning
 * @param duplicates extra copies of a text (and pair) that occurs more than once after cleaning
 * @param conflictingTexts distinct texts that occur with more than one label
 * @param modelMaxLength the most tokens the model takes (0 = no limit known)
 */
public record DataSummary(DatasetStats stats, int emptyTexts, int duplicates, int conflictingTexts, int modelMaxLength) {

    /**
     * Reads and cleans {@code file} and measures it with the tokenizer of {@code modelDir}.
     *
     * @param read how to read the file; without a label column the class balance is left out
     */
    public static DataSummary describe(Path file, ReadOptions read, TextCleaner cleaner, Path modelDir) {
        Dataset data = cleaner.clean(DataReader.read(file, read));
        int empty = Deduplicator.dropEmpty(data).dropped();
        Deduplicator.Result dedupe = Deduplicator.dedupe(data, false);
        try (TextTokenizer tok = TextTokenizer.load(modelDir, 0)) {
            return new DataSummary(DatasetStats.compute(data, tok), empty, dedupe.duplicatesDropped(),
                    data.isLabelled() ? dedupe.conflicts().size() : 0, modelMaxLength(modelDir, tok));
        }
    }

    /** The model's positions (less RoBERTa's offset), and the tokenizer's model_max_length when smaller. */
    static int modelMaxLength(Path modelDir, TextTokenizer tok) {
        EncoderConfig enc = ModelConfig.read(modelDir).encoder();
        int positions = enc.maxPositionEmbeddings() - enc.positionOffset();
        return tok.modelMaxLength() > 0 ? Math.min(tok.modelMaxLength(), positions) : positions;
    }

    public int rows() {
        return stats.rows();
    }

    public int suggestedMaxLength() {
        return stats.suggestedMaxLength(modelMaxLength);
    }

    /** {@link DatasetStats#toText} and a line on empty and duplicate texts. */
    public String toText() {
        StringBuilder b = new StringBuilder(stats.toText(modelMaxLength));
        b.append(String.format(Locale.ROOT, "empty texts: %d; duplicate texts: %d extra copies (%.1f %%)", emptyTexts, duplicates,
                100.0 * duplicates / rows()));
        if (stats.labelMode() != LabelMode.UNLABELLED) {
            b.append("; ").append(conflictingTexts).append(" text").append(conflictingTexts == 1 ? "" : "s")
                    .append(" with conflicting labels");
        }
        b.append(" (training drops the empty texts and the extra copies)\n");
        return b.toString();
    }

    /** The same numbers as JSON-ready maps (snake_case keys). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", stats.source());
        m.put("rows", rows());
        m.put("label_mode", stats.labelMode().name().toLowerCase(Locale.ROOT));
        Map<String, Object> classes = new LinkedHashMap<>();
        stats.labelCounts().forEach((label, count) -> {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("count", count);
            c.put("percent", 100.0 * count / rows());
            classes.put(label, c);
        });
        m.put("classes", classes);
        m.put("empty_texts", emptyTexts);
        m.put("duplicates", duplicates);
        m.put("conflicting_texts", conflictingTexts);
        m.put("tokens", distribution(stats.tokens()));
        Map<String, Integer> above = new LinkedHashMap<>();
        for (int c : DatasetStats.CANDIDATE_MAX_LENGTHS) {
            above.put(Integer.toString(c), stats.tokens().countAbove(c));
        }
        m.put("tokens_longer_than", above);
        m.put("words", distribution(stats.words()));
        m.put("model_max_length", modelMaxLength);
        m.put("suggested_max_length", suggestedMaxLength());
        m.put("truncated_at_suggestion", stats.tokens().countAbove(suggestedMaxLength()));
        return m;
    }

    private static Map<String, Object> distribution(LengthDistribution d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("min", d.min());
        m.put("max", d.max());
        m.put("mean", d.mean());
        m.put("mode", d.mode());
        m.put("mode_count", d.modeCount());
        m.put("p50", d.percentile(50));
        m.put("p90", d.percentile(90));
        m.put("p95", d.percentile(95));
        m.put("p99", d.percentile(99));
        return m;
    }
}
