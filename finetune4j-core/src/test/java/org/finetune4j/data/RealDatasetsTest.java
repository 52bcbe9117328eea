package org.finetune4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.testing.SharedData;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.Test;

/**
 * The readers against the project's real datasets (../shared/data), with the counts their READMEs give.
 * Each test reports "NOT RUN" when the folder is absent, and fails under CI.
 */
@NeedsSharedData
class RealDatasetsTest {
    private static Dataset tweets() {
        return DataReader.read(SharedData.require("data/disaster-tweets/train.csv"), ReadOptions.of("text", "target").withIdColumn("id"));
    }

    private static Dataset sms() {
        return DataReader.read(SharedData.require("data/sms-spam-collection/SMSSpamCollection"),
                ReadOptions.of("text", "label").withFormat(Format.TSV).withoutHeader("label", "text"));
    }

    @Test
    void disasterTweetsTrainHasEmbeddedNewlinesAndTheREADMEsCounts() {
        Dataset d = tweets();
        assertEquals(7613, d.size());
        assertEquals(435, d.examples().stream().filter(e -> e.text().contains("\n")).count());
        assertEquals(Map.of("0", 4342, "1", 3271), d.labelCounts());
        assertEquals("1", d.get(0).id());
        // Records start on the line after the previous record's embedded newlines: the last is not line 7614.
        assertTrue(d.get(7612).line() > 7614);
        assertEquals(List.of("0", "1"), LabelSet.fromTraining(d).names());
    }

    @Test
    void disasterTweetsTestIsUnlabelled() {
        Dataset d = DataReader.read(SharedData.require("data/disaster-tweets/test.csv"), ReadOptions.of("text", null).withIdColumn("id"));
        assertEquals(3263, d.size());
        assertEquals(LabelMode.UNLABELLED, d.labelMode());
        assertEquals("0", d.get(0).id());
    }

    @Test
    void smsSpamSplitsAtTheFirstTabAndSplitsStratified() {
        Dataset d = sms();
        assertEquals(5574, d.size());
        assertEquals(Map.of("ham", 4827, "spam", 747), d.labelCounts());
        assertEquals(5574L, d.get(5573).line()); // no trailing newline after the last line
        Dataset unique = Deduplicator.dedupe(d, false).dataset();
        List<Dataset> parts = Splits.stratified(unique, new double[] {0.7, 0.15, 0.15}, 42);
        assertEquals(unique.size(), parts.stream().mapToInt(Dataset::size).sum());
        double spamShare = (double) unique.labelCounts().get("spam") / unique.size();
        for (Dataset p : parts) {
            assertEquals(spamShare, (double) p.labelCounts().get("spam") / p.size(), 0.002);
        }
    }

    @Test
    void sst2DevAndTrain() {
        Dataset dev = DataReader.read(SharedData.require("data/sst2/dev.tsv"), ReadOptions.of("sentence", "label").withIntegerLabels(true));
        assertEquals(872, dev.size());
        assertEquals(Map.of("1", 444, "0", 428), dev.labelCounts());
        Dataset train = DataReader.read(SharedData.require("data/sst2/train.tsv"), ReadOptions.of("sentence", "label"));
        assertEquals(67_349, train.size());
        assertEquals(Map.of("1", 37_569, "0", 29_780), train.labelCounts());
        LabelSet.fromTraining(train).checkKnown(dev);
    }

    @Test
    void trecCoarseLabelsAndTheRawLatin1File() {
        Dataset d = DataReader.read(SharedData.require("data/trec6/train.csv"), ReadOptions.of("text", "coarse_label"));
        assertEquals(5452, d.size());
        assertEquals(Map.of("ABBR", 86, "DESC", 1162, "ENTY", 1250, "HUM", 1223, "LOC", 835, "NUM", 896), d.labelCounts());
        assertEquals(List.of("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"), LabelSet.fromTraining(d).names());
        assertEquals(50, DataReader.read(SharedData.require("data/trec6/train.csv"), ReadOptions.of("text", "fine_label"))
                .labelCounts().size());
        // The raw file's one Latin-1 byte is found, with its line, instead of becoming U+FFFD.
        Path raw = SharedData.require("data/trec6/train_5500.label");
        ReadOptions whole = ReadOptions.of("0", null).withFormat(Format.TSV).withoutHeader(); // one column: the whole line
        DataException e = assertThrows(DataException.class, () -> DataReader.read(raw, whole));
        assertTrue(e.getMessage().startsWith(raw + " line 66: bytes 0xF0"), e.getMessage());
        Dataset latin1 = DataReader.read(raw, whole.withEncoding(StandardCharsets.ISO_8859_1));
        assertTrue(latin1.get(65).text().contains("sister\u00f0city"));
    }

    @Test
    void imdbTestGzip() {
        Dataset d = DataReader.read(SharedData.require("data/imdb-50k/test.csv.gz"), ReadOptions.of("review", "sentiment"));
        assertEquals(25_000, d.size());
        assertEquals(Map.of("negative", 12_500, "positive", 12_500), d.labelCounts());
    }

    @Test
    void agNewsTitleAndDescriptionAsAPair() {
        Dataset d = DataReader.read(SharedData.require("data/ag-news-test/test.csv"),
                ReadOptions.of("title", "label").withTextPairColumn("description"));
        assertEquals(7600, d.size());
        assertEquals(Map.of("1", 1900, "2", 1900, "3", 1900, "4", 1900), d.labelCounts());
        assertEquals("Fears for T N pension after talks", d.get(0).text());
        assertTrue(d.get(0).textPair().startsWith("Unions representing workers at Turner   Newall say"));
        assertEquals(Map.of(0, "1", 1, "2", 2, "3", 3, "4"), LabelSet.fromTraining(d).id2label());
    }

    /** DJL-NOTES measured 248,554 → 148,752 padded tokens on this split; our plans must show the same kind of gain. */
    @Test
    void lengthGroupingCutsPaddingOnRealTweets() {
        Dataset train = Splits.stratified(tweets(), new double[] {0.9, 0.1}, 42).get(0);
        EncodedDataset enc;
        try (TextTokenizer tok = TinyModels.tokenizer(128)) {
            enc = EncodedDataset.encode(train, tok, LabelSet.fromTraining(train));
        }
        assertEquals(6851, enc.size());
        int[] lengths = enc.lengths();
        Batches.Padding sequential = Batches.padding(lengths, Batches.plan(lengths, 16, Batches.Order.SHUFFLED, 42, 0));
        Batches.Padding grouped = Batches.padding(lengths, Batches.plan(lengths, 16, Batches.Order.LENGTH_GROUPED, 42, 0));
        assertEquals(sequential.realTokens(), grouped.realTokens());
        assertTrue(grouped.paddedTokens() < 0.7 * sequential.paddedTokens(), grouped + " vs " + sequential);
        assertTrue(grouped.efficiency() > 0.9, grouped.toString());
    }
}
