package org.finetune4j.config;

/** How a sequence's hidden states become one feature vector for the classification head. */
public enum Pooling {
    /** BERT's pooler: tanh(dense(first token)). Needs a pooler in the checkpoint to be meaningful. */
    POOLER,
    /** The first token's hidden state ([CLS], or RoBERTa's &lt;s&gt;). */
    CLS,
    /** The mean of the hidden states of the real (unpadded) tokens, as sentence-transformers pools. */
    MEAN;

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Pooling parse(String s) {
        for (Pooling p : values()) {
            if (p.id().equals(s)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown pooling \"" + s + "\"; choose pooler, cls or mean");
    }
}
