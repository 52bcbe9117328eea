package org.finetune4j.server;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.api.Prediction;

/**
 * The answer to a classify request, shaped as the Hugging Face text-classification pipeline's output:
 * per text either the predicted class, {@code {"label", "score"}}, or (with {@code top_k}) a list of
 * classes by descending score. One text gives a list of its entries; a batch gives one entry per text.
 */
final class ClassifyResponse {
    private ClassifyResponse() {
    }

    static List<Object> of(ClassifyRequest req, List<Prediction> predictions) {
        List<Object> perText = new ArrayList<>(predictions.size());
        for (Prediction p : predictions) {
            perText.add(req.ranked() ? ranked(p, req.topK()) : entry(p.label(), p.score()));
        }
        if (req.batch()) {
            return perText;
        }
        Object only = perText.get(0);
        return only instanceof List<?> l ? List.copyOf(l) : List.of(only);
    }

    /**
     * The classes by descending score, ties in label order; {@code k} null or beyond the label count
     * means all. The unranked answer instead is {@link Prediction#label()}, which honours a tuned
     * decision threshold, so it can differ from the top-scored class.
     */
    static List<Map<String, Object>> ranked(Prediction p, Integer k) {
        List<Map.Entry<String, Double>> byScore = new ArrayList<>(p.scores().entrySet());
        byScore.sort(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder())); // stable: ties keep label order
        int n = k == null ? byScore.size() : Math.min(k, byScore.size());
        List<Map<String, Object>> out = new ArrayList<>(n);
        for (Map.Entry<String, Double> e : byScore.subList(0, n)) {
            out.add(entry(e.getKey(), e.getValue()));
        }
        return out;
    }

    private static Map<String, Object> entry(String label, double score) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", label);
        m.put("score", score);
        return m;
    }
}
