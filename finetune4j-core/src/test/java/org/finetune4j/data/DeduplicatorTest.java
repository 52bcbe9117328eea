package org.finetune4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.testing.SharedData;
import org.junit.jupiter.api.Test;

class DeduplicatorTest {

    private static Example ex(String text, String label, long line) {
        return new Example(Long.toString(line), text, null, List.of(label), line);
    }

    private static final Dataset SMALL = new Dataset("small.csv", List.of(
            ex("a", "1", 2), ex("b", "0", 3), ex("a", "1", 4), ex("c", "0", 5), ex("c", "1", 6), ex("c", "0", 7),
            ex("  ", "0", 8), ex("", "1", 9)), LabelMode.SINGLE);

    @Test
    void keepsTheFirstCopyAndReportsConflicts() {
        Deduplicator.Result r = Deduplicator.dedupe(SMALL, false);
        assertEquals(List.of(2L, 3L, 5L, 8L, 9L), r.dataset().examples().stream().map(Example::line).toList());
        assertEquals(3, r.duplicatesDropped());
        assertEquals(1, r.conflicts().size());
        Deduplicator.Conflict c = r.conflicts().get(0);
        assertEquals("c", c.text());
        assertEquals(Map.of("0", 2, "1", 1), c.labelCounts());
        assertEquals(List.of(5L, 6L, 7L), c.lines());
        assertEquals(0, r.conflictsDropped());
        assertEquals("dropped 3 duplicate texts; 1 text with conflicting labels (kept with the first label seen)", r.summary());
    }

    @Test
    void canDropConflictingTexts() {
        Deduplicator.Result r = Deduplicator.dedupe(SMALL, true);
        assertEquals(List.of("a", "b", "  ", ""), r.dataset().examples().stream().map(Example::text).toList());
        assertEquals(1, r.conflictsDropped());
        assertEquals(3, r.duplicatesDropped());
    }

    @Test
    void dropsEmptyAndBlankTexts() {
        Deduplicator.Filtered f = Deduplicator.dropEmpty(SMALL);
        assertEquals(2, f.dropped());
        assertEquals(6, f.dataset().size());
        Dataset pairs = new Dataset("p", List.of(new Example("0", "q", " ", List.of("1"), 2),
                new Example("1", "q", "a", List.of("1"), 3)), LabelMode.SINGLE);
        assertEquals(1, Deduplicator.dropEmpty(pairs).dropped());
    }

    @Test
    void pairsAndMultiLabelSetsAreComparedAsAWhole() {
        Dataset d = new Dataset("m", List.of(
                new Example("0", "q", "a", List.of("x", "y"), 2),
                new Example("1", "q", "b", List.of("x"), 3),
                new Example("2", "q", "a", List.of("y", "x"), 4)), LabelMode.MULTI);
        Deduplicator.Result r = Deduplicator.dedupe(d, false);
        assertEquals(1, r.duplicatesDropped());
        assertEquals(0, r.conflicts().size());
    }

    @Test
    @NeedsSharedData
    void smsSpamHas403DuplicatesAndNoConflicts() {
        Dataset sms = DataReader.read(SharedData.require("data/sms-spam-collection/SMSSpamCollection"),
                ReadOptions.of("text", "label").withFormat(Format.TSV).withoutHeader("label", "text"));
        Deduplicator.Result r = Deduplicator.dedupe(sms, false);
        assertEquals(403, r.duplicatesDropped());
        assertEquals(5171, r.dataset().size());
        assertEquals(0, r.conflicts().size());
    }

    @Test
    @NeedsSharedData
    void disasterTweetsHave110DuplicatesAnd18ConflictingTexts() {
        Dataset tweets = DataReader.read(SharedData.require("data/disaster-tweets/train.csv"), ReadOptions.of("text", "target"));
        Deduplicator.Result r = Deduplicator.dedupe(tweets, false);
        assertEquals(110, r.duplicatesDropped());
        assertEquals(18, r.conflicts().size());
        Deduplicator.Result strict = Deduplicator.dedupe(tweets, true);
        assertEquals(7613 - 110 - 18, strict.dataset().size());
        // Cleaning makes more texts equal: the notebook's clean() leaves 658 extra copies.
        assertEquals(658, Deduplicator.dedupe(TextCleaner.DISASTER_TWEETS_NOTEBOOK.clean(tweets), false).duplicatesDropped());
    }
}
