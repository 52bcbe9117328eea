package org.finetune4j.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.finetune4j.text.TextTokenizer;

/**
 * What the {@code stats} command prints: class balance, tokens and words per example, and a suggested
 * max_length. Seed 001 picks max_length from such a length distribution by eye; here the rule is explicit.
 *
 * @param source the data described
 * @param labelCounts examples per label, most frequent first (multi-label: an example counts for each of its labels)
 * @param tokens tokens per example as the model sees them, special tokens and the pair included, untruncated
 * @param words whitespace-separated words per example (text and pair), as seed 001's {@code len(s.split())}
 */
public record DatasetStats(String source, LabelMode labelMode, Map<String, Integer> labelCounts,
                           LengthDistribution tokens, LengthDistribution words) {

    /** The max_length candidates whose truncation counts the report shows. */
    public static final List<Integer> CANDIDATE_MAX_LENGTHS = List.of(32, 64, 128, 256, 512);
    /** The percentile of token lengths that {@link #suggestedMaxLength} covers. */
    public static final double SUGGESTION_PERCENTILE = 95;

    public DatasetStats {
        labelCounts = Collections.unmodifiableMap(new LinkedHashMap<>(labelCounts));
    }

    /** Tokenises every example once, without truncation (the tokenizer's own max_length is ignored here). */
    public static DatasetStats compute(Dataset data, TextTokenizer tokenizer) {
        if (data.size() == 0) {
            throw new DataException(data.source() + ": no examples to describe");
        }
        int[] tokenLengths;
        try (TextTokenizer untruncated = tokenizer.withMaxLength(0)) {
            tokenLengths = EncodedDataset.encode(data, untruncated, null).lengths();
        }
        int[] wordCounts = new int[data.size()];
        for (int i = 0; i < wordCounts.length; i++) {
            Example e = data.get(i);
            wordCounts[i] = countWords(e.text()) + (e.textPair() == null ? 0 : countWords(e.textPair()));
        }
        List<Map.Entry<String, Integer>> counts = new ArrayList<>(data.labelCounts().entrySet());
        counts.sort(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        Map<String, Integer> sorted = new LinkedHashMap<>();
        counts.forEach(c -> sorted.put(c.getKey(), c.getValue()));
        return new DatasetStats(data.source(), data.labelMode(), sorted, new LengthDistribution(tokenLengths),
                new LengthDistribution(wordCounts));
    }

    /** The number of examples described. */
    public int rows() {
        return tokens.count();
    }

    /**
     * The smallest multiple of 8 that is at least the 95th percentile of token lengths, capped at the
     * model's maximum (0 = no cap). p95 rather than p99: attention cost grows with the padded length, and
     * on long-tailed data (IMDB) covering the last 4 % would double it; the few truncated examples keep
     * their first max_length tokens. Multiples of 8 suit vectorised kernels.
     */
    public int suggestedMaxLength(int modelMaxLength) {
        int p = tokens.percentile(SUGGESTION_PERCENTILE);
        int suggestion = Math.max(8, (p + 7) / 8 * 8);
        return modelMaxLength > 0 ? Math.min(suggestion, modelMaxLength) : suggestion;
    }

    /** The report the {@code stats} command prints. */
    public String toText(int modelMaxLength) {
        StringBuilder b = new StringBuilder();
        int rows = rows();
        b.append("data: ").append(source).append(" (").append(rows).append(" examples)\n");
        if (labelMode == LabelMode.UNLABELLED) {
            b.append("labels: none (unlabelled data)\n");
        } else {
            b.append(labelMode == LabelMode.MULTI ? "labels (multi-label, share of examples with each): "
                    : "classes: ").append(labelCounts.size()).append('\n');
            int width = labelCounts.keySet().stream().mapToInt(String::length).max().orElse(1);
            for (Map.Entry<String, Integer> c : labelCounts.entrySet()) {
                b.append(String.format(Locale.ROOT, "  %-" + Math.min(width, 40) + "s %8d  %5.1f %%%n", c.getKey(),
                        c.getValue(), 100.0 * c.getValue() / rows));
            }
            if (labelCounts.size() > 1) {
                int most = labelCounts.values().iterator().next();
                int least = labelCounts.values().stream().mapToInt(Integer::intValue).min().orElse(most);
                b.append(String.format(Locale.ROOT, "  imbalance: largest / smallest class = %.1f%n", (double) most / least));
            }
        }
        describe(b, "tokens per example (special tokens included)", tokens);
        b.append("  longer than:");
        for (int c : CANDIDATE_MAX_LENGTHS) {
            int above = tokens.countAbove(c);
            b.append(String.format(Locale.ROOT, " %d: %d (%.1f %%)%s", c, above, 100.0 * above / rows,
                    c == CANDIDATE_MAX_LENGTHS.get(CANDIDATE_MAX_LENGTHS.size() - 1) ? "" : ";"));
        }
        b.append('\n');
        describe(b, "words per example", words);
        int suggestion = suggestedMaxLength(modelMaxLength);
        int truncated = tokens.countAbove(suggestion);
        b.append(String.format(Locale.ROOT, "suggested max_length: %d (smallest multiple of 8 >= p95 %d%s); %d example%s"
                        + " (%.1f %%) would be truncated%n", suggestion, tokens.percentile(SUGGESTION_PERCENTILE),
                modelMaxLength > 0 ? ", at most the model's " + modelMaxLength : "", truncated, truncated == 1 ? "" : "s",
                100.0 * truncated / rows));
        return b.toString();
    }

    private static void describe(StringBuilder b, String title, LengthDistribution d) {
        b.append(String.format(Locale.ROOT, "%s: min %d, max %d, mean %.1f, mode %d (%d examples)%n", title, d.min(),
                d.max(), d.mean(), d.mode(), d.modeCount()));
        b.append(String.format(Locale.ROOT, "  percentiles: p50 %d, p90 %d, p95 %d, p99 %d%n", d.percentile(50),
                d.percentile(90), d.percentile(95), d.percentile(99)));
    }

    /** Python's {@code len(s.split())}. */
    static int countWords(String s) {
        int words = 0;
        boolean inWord = false;
        for (int i = 0; i < s.length(); i++) {
            boolean space = TextCleaner.isPythonSpace(s.charAt(i));
            if (!space && !inWord) {
                words++;
            }
            inWord = !space;
        }
        return words;
    }
}
