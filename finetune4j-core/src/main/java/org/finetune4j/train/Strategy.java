package org.finetune4j.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What trains. The lower-case {@link #id()} is the command-line value and what training_args.json and
 * run_config.json hold.
 */
public enum Strategy {
    /** Every weight: encoder and head. */
    FULL,
    /** The head only, on encoder features computed once ({@link CachedFeatureExamples}). */
    FROZEN,
    /** The embeddings and the lowest {@code frozen_layers} layers frozen, the rest and the head trained. */
    PARTIAL,
    /** PEFT's LoRA adapters on chosen linear layers, plus the head ({@link org.finetune4j.lora.Lora}). */
    LORA;

    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** All ids, in declaration order: "full, frozen, partial, lora". */
    public static List<String> ids() {
        return Arrays.stream(values()).map(Strategy::id).toList();
    }

    /** The strategy of an id (case-insensitive), or an error that lists the ids. */
    @JsonCreator
    public static Strategy of(String id) {
        for (Strategy s : values()) {
            if (s.id().equalsIgnoreCase(id == null ? "" : id.trim())) {
                return s;
            }
        }
        throw new IllegalArgumentException("strategy must be one of " + String.join(", ", ids()) + ", got \"" + id + "\"");
    }

    @Override
    public String toString() {
        return id();
    }
}
