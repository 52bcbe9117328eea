package org.finetune4j.spark;

import java.io.Serializable;
import java.util.List;

/**
 * What a text stage computes on an executor: for a window of texts, the values of its output columns.
 * Built on the driver from the stage's params; loads its model through {@link ModelCache} on first use.
 */
interface RowScorer extends Serializable {
    /** The output columns' values, one array per text (in the order of {@code texts}, none null or empty). */
    Object[][] score(List<String> texts);

    /** How many output columns there are: a skipped (null or empty) text gets that many nulls. */
    int width();
}
