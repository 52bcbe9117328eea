package org.finetune4j.nn;

import java.util.List;
import java.util.function.Predicate;

/**
 * Rules for matching checkpoint keys to model parameters.
 *
 * @param newKeyPrefixes model keys that may be absent from the checkpoint (a fresh classification
 *     head); any other missing key is an error, as a missing encoder weight means the wrong checkpoint
 * @param ignoredUnexpected checkpoint keys the model may drop silently (pre-training heads, buffers
 *     such as {@code position_ids}), like transformers' {@code _keys_to_ignore_on_load_unexpected}
 * @param strict when true, any other unexpected key is an error; when false it is only reported
 */
public record LoadOptions(List<String> newKeyPrefixes, Predicate<String> ignoredUnexpected, boolean strict) {
    public LoadOptions {
        newKeyPrefixes = List.copyOf(newKeyPrefixes);
    }

    public boolean mayBeNew(String key) {
        return newKeyPrefixes.stream().anyMatch(key::startsWith);
    }
}
