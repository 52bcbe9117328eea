package org.finetune4j.api;

import java.nio.file.Path;
import org.finetune4j.data.ReadOptions;
import org.finetune4j.data.TextCleaner;

/**
 * Where a run's data comes from and how it is prepared.
 *
 * @param train the training file
 * @param validation a validation file, or null to split one off {@code train} with {@code split}
 * @param test a test file, or null (a three-way {@code split} also makes one)
 * @param split ratios such as {0.9, 0.1} or {0.7, 0.15, 0.15} for a stratified split of {@code train}
 *     (train, validation[, test]); null when validation comes from a file or is not wanted
 * @param read columns, format, encoding
 * @param cleaner text cleaning applied to every split (and remembered by the model for prediction)
 * @param dropDuplicates drop repeated texts of the training file before splitting (an honest test score)
 * @param dropEmpty drop examples whose text is empty after cleaning
 * @param splitSeed the seed of the stratified {@code split}, or null for the run's seed; a hyperparameter search
 *     that varies the seed fixes this one, so that every trial is validated on the same rows
 */
public record DataSpec(Path train, Path validation, Path test, double[] split, ReadOptions read, TextCleaner cleaner,
        boolean dropDuplicates, boolean dropEmpty, Long splitSeed) {
    /** Data split with the run's own seed. */
    public DataSpec(Path train, Path validation, Path test, double[] split, ReadOptions read, TextCleaner cleaner,
            boolean dropDuplicates, boolean dropEmpty) {
        this(train, validation, test, split, read, cleaner, dropDuplicates, dropEmpty, null);
    }

    public DataSpec {
        if (train == null) {
            throw new IllegalArgumentException("a training file is required (--train FILE)");
        }
        if (validation != null && split != null) {
            throw new IllegalArgumentException("give either --validation FILE or --split ratios, not both");
        }
        if (split != null && split.length == 3 && test != null) {
            throw new IllegalArgumentException("a three-way --split makes the test set; do not also give --test");
        }
        split = split == null ? null : split.clone();
        cleaner = cleaner == null ? TextCleaner.NONE : cleaner;
    }

    /** The seed the split uses in a run seeded with {@code runSeed}. */
    public long splitSeedFor(long runSeed) {
        return splitSeed != null ? splitSeed : runSeed;
    }
}
