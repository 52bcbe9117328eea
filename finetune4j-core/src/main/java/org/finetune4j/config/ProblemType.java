package org.finetune4j.config;

/** transformers' problem_type values that a classifier can have. */
public enum ProblemType {
    /** One label per text; softmax and cross-entropy. */
    SINGLE_LABEL("single_label_classification"),
    /** Any number of labels per text; sigmoid per label and binary cross-entropy. */
    MULTI_LABEL("multi_label_classification");

    private final String id;

    ProblemType(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static ProblemType parse(String s, String where) {
        for (ProblemType p : values()) {
            if (p.id.equals(s)) {
                return p;
            }
        }
        throw new org.finetune4j.io.CheckpointException(where + ": problem_type \"" + s
                + "\" is not supported; use single_label_classification or multi_label_classification"
                + ("regression".equals(s) ? " (regression is not a classification task)." : "."));
    }
}
