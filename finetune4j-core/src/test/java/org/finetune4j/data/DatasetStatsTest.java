package org.finetune4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.testing.SharedData;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.Test;

class DatasetStatsTest {
    @Test
    void lengthDistributionUsesNearestRankPercentiles() {
        int[] values = new int[100];
        for (int i = 0; i < 100; i++) {
            values[i] = 100 - i; // 1..100, unsorted
        }
        LengthDistribution d = new LengthDistribution(values);
        assertEquals(1, d.min());
        assertEquals(100, d.max());
        assertEquals(50.5, d.mean(), 1e-12);
        assertEquals(50, d.percentile(50));
        assertEquals(95, d.percentile(95));
        assertEquals(100, d.percentile(100));
        assertEquals(5, d.countAbove(95));
        assertEquals(0, d.countAbove(100));
        LengthDistribution modes = new LengthDistribution(new int[] {7, 3, 7, 3, 9});
        assertEquals(3, modes.mode()); // the smaller of two equally common lengths
        assertEquals(2, modes.modeCount());
        assertEquals(3, new LengthDistribution(new int[] {3}).percentile(1));
    }

    /** Texts of n times "word": the uncased vocabulary has "word", so n + 2 tokens with [CLS] and [SEP]. */
    private static Dataset words(int... counts) {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < counts.length; i++) {
            String text = "word ".repeat(counts[i]).trim();
            examples.add(new Example(Integer.toString(i), text, null, List.of(i % 4 == 0 ? "rare" : "common"), i + 2));
        }
        return new Dataset("words.csv", examples, LabelMode.SINGLE);
    }

    @Test
    void statsOfKnownTextsAndTheSuggestedMaxLength() {
        int[] counts = new int[20];
        for (int i = 0; i < 20; i++) {
            counts[i] = i < 10 ? 5 : i < 19 ? 20 : 300; // one example far longer than the tokenizer file's baked-in 128
        }
        DatasetStats s;
        try (TextTokenizer tok = TinyModels.tokenizer(128)) {
            s = DatasetStats.compute(words(counts), tok);
        }
        assertEquals(20, s.rows());
        assertEquals(Map.of("common", 15, "rare", 5), s.labelCounts());
        assertEquals("common", s.labelCounts().keySet().iterator().next()); // most frequent first
        assertEquals(7, s.tokens().min());
        assertEquals(302, s.tokens().max()); // not truncated, although the tokenizer truncates at 128
        assertEquals(7, s.tokens().mode());
        assertEquals(10, s.tokens().modeCount());
        assertEquals(22, s.tokens().percentile(95));
        assertEquals(5, s.words().min());
        assertEquals(300, s.words().max());
        assertEquals(24, s.suggestedMaxLength(512)); // smallest multiple of 8 >= p95 = 22
        assertEquals(16, s.suggestedMaxLength(16));  // capped at the model's maximum
        assertEquals(1, s.tokens().countAbove(128));
        String text = s.toText(512);
        assertTrue(text.contains("data: words.csv (20 examples)"), text);
        assertTrue(text.contains("classes: 2"), text);
        assertTrue(text.contains("common       15   75.0 %"), text);
        assertTrue(text.contains("imbalance: largest / smallest class = 3.0"), text);
        assertTrue(text.contains("tokens per example (special tokens included): min 7, max 302, mean 28.5, mode 7 (10 examples)"), text);
        assertTrue(text.contains("percentiles: p50 7, p90 22, p95 22, p99 302"), text);
        assertTrue(text.contains("longer than: 32: 1 (5.0 %); 64: 1 (5.0 %); 128: 1 (5.0 %); 256: 1 (5.0 %); 512: 0 (0.0 %)"), text);
        assertTrue(text.contains("suggested max_length: 24 (smallest multiple of 8 >= p95 22, at most the model's 512);"
                + " 1 example (5.0 %) would be truncated"), text);
    }

    @Test
    void wordsAreCountedAsPythonSplits() {
        assertEquals(0, DatasetStats.countWords(" \t\n"));
        assertEquals(3, DatasetStats.countWords(" a\u00a0b\r\nc "));
    }

    /** Seed 001 prints word statistics; these are Python's len(text.split()) figures for the disaster tweets. */
    @Test
    @NeedsSharedData
    void disasterTweetsWordStatisticsMatchPython() {
        Dataset tweets = DataReader.read(SharedData.require("data/disaster-tweets/train.csv"), ReadOptions.of("text", "target"));
        DatasetStats s;
        try (TextTokenizer tok = TinyModels.tokenizer(0)) {
            s = DatasetStats.compute(tweets, tok);
        }
        LengthDistribution w = s.words();
        assertEquals(List.of(1, 31, 11, 497, 15, 22, 24, 27), List.of(w.min(), w.max(), w.mode(), w.modeCount(),
                w.percentile(50), w.percentile(90), w.percentile(95), w.percentile(99)));
        assertEquals(14.9036, w.mean(), 1e-4);
        assertEquals(Map.of("0", 4342, "1", 3271), s.labelCounts());
        int p95 = s.tokens().percentile(95);
        int suggestion = s.suggestedMaxLength(512);
        assertTrue(suggestion % 8 == 0 && suggestion >= p95 && suggestion < p95 + 8, suggestion + " for p95 " + p95);
        assertTrue(s.tokens().countAbove(suggestion) <= 0.05 * tweets.size());
    }
}
