package org.finetune4j.text;

/**
 * One tokenised text (with its pair text, if any), special tokens included, not padded.
 *
 * @param ids token ids
 * @param typeIds token type (segment) ids: 0 for the first text, 1 for the pair
 * @param truncated whether tokens were dropped to fit max_length
 */
public record Tokenized(long[] ids, long[] typeIds, boolean truncated) {
    public int length() {
        return ids.length;
    }
}
