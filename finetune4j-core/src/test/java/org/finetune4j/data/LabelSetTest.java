package org.finetune4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelSetTest {

    private static Dataset labelled(String source, String... labels) {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) {
            examples.add(new Example(Integer.toString(i), "t" + i, null, List.of(labels[i]), i + 2));
        }
        return new Dataset(source, examples, LabelMode.SINGLE);
    }

    @Test
    void integerLabelsAreInNumericOrder() {
        LabelSet s = LabelSet.fromTraining(labelled("t.csv", "4", "10", "1", "2", "1"));
        assertEquals(List.of("1", "2", "4", "10"), s.names());
        assertEquals(Map.of(0, "1", 1, "2", 2, "4", 3, "10"), s.id2label());
        assertEquals(3, s.idOf("10"));
        assertEquals(List.of("0", "1"), LabelSet.fromTraining(labelled("t.csv", "1", "0")).names());
    }

    @Test
    void otherLabelsAreAlphabetical() {
        LabelSet s = LabelSet.fromTraining(labelled("t.csv", "spam", "ham", "10", "ham"));
        assertEquals(List.of("10", "ham", "spam"), s.names());
        assertEquals(Map.of("10", 0, "ham", 1, "spam", 2), s.label2id());
        assertArrayEquals(new int[] {2, 1, 0, 1}, s.ids(labelled("t.csv", "spam", "ham", "10", "ham")));
    }

    @Test
    void unknownLabelNamesFileLineAndKnownLabels() {
        LabelSet s = LabelSet.fromTraining(labelled("train.csv", "ham", "spam"));
        DataException e = assertThrows(DataException.class, () -> s.ids(labelled("dev.csv", "ham", "Spam", "x", "Spam")));
        assertTrue(e.getMessage().startsWith("label 'Spam' at dev.csv line 3 was not in the training data; known labels:"
                + " ham, spam."), e.getMessage());
        assertTrue(e.getMessage().contains("Also unknown: 'x' (dev.csv line 4)."), e.getMessage());
        assertThrows(DataException.class, () -> s.idOf("eggs"));
    }

    @Test
    void trainingDataWithASingleClassIsAnError() {
        DataException e = assertThrows(DataException.class, () -> LabelSet.fromTraining(labelled("train.csv", "ham", "ham")));
        assertTrue(e.getMessage().contains("train.csv: the training data has a single class ('ham', 2 examples)"),
                e.getMessage());
        Dataset unlabelled = new Dataset("test.csv", List.of(new Example("0", "t", null, List.of(), 2)), LabelMode.UNLABELLED);
        assertThrows(DataException.class, () -> LabelSet.fromTraining(unlabelled));
    }
}
