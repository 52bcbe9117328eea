package org.finetune4j.nn;

import java.util.List;

/**
 * What loading weights did, in the terms transformers uses: keys the model has that the checkpoint
 * lacked (so they were newly initialised), and checkpoint keys the model does not use.
 */
public record LoadReport(String source, List<String> missing, List<String> unexpected, List<String> ignored) {
    public LoadReport {
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        ignored = List.copyOf(ignored);
    }

    public boolean clean() {
        return missing.isEmpty() && unexpected.isEmpty();
    }

    /** A one-paragraph summary for logs, or an empty string when every key matched. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        if (!missing.isEmpty()) {
            sb.append("Some weights of the model were not in ").append(source).append(" and were newly initialized: ")
                    .append(missing).append(". Train the model before using it for predictions.");
        }
        if (!unexpected.isEmpty()) {
            if (sb.length() > 0) {
                sb.append('\n');
            }
            sb.append("Some weights in ").append(source).append(" were not used by the model: ").append(unexpected);
        }
        return sb.toString();
    }
}
