package org.finetune4j.data;

/** What the label column of a dataset holds. */
public enum LabelMode {
    /** No label column: data to predict on. */
    UNLABELLED,
    /** Exactly one label per example (softmax, cross-entropy). */
    SINGLE,
    /** A set of labels per example, split from the label column by a separator (sigmoid per label). */
    MULTI
}
