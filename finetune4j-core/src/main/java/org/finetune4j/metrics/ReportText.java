package org.finetune4j.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * The layout of scikit-learn's {@code classification_report}, as text and as its
 * {@code output_dict=True} dictionary, shared by the single- and multi-label reports.
 */
final class ReportText {
    static final List<String> HEADERS = List.of("precision", "recall", "f1-score", "support");
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReportText() {
    }

    /**
     * scikit-learn's text report (sklearn/metrics/_classification.py, classification_report):
     * <pre>
     * width = max(max(len(name) for name in target_names), len("weighted avg"), digits)
     * header:  "{:>{width}s} " + " {:>9}" * 4, then a blank line
     * rows:    "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n", then a blank line
     * accuracy "{:>{width}s} " + " {:>9.{digits}}" * 2 (two blank cells) + " {:>9.{digits}f}" + " {:>9}\n"
     * </pre>
     *
     * @param accuracy printed as the "accuracy" row before the averages; null for multi-label
     *     reports, whose micro average is printed as a row of its own
     */
    static String table(List<Scores> rows, Double accuracy, long total, List<Scores> averages, int digits) {
        if (digits < 0) {
            throw new IllegalArgumentException("digits must be 0 or more, got " + digits);
        }
        int width = Math.max(width("weighted avg"), digits);
        for (Scores r : rows) {
            width = Math.max(width, width(r.name()));
        }
        StringBuilder sb = new StringBuilder();
        sb.append(padLeft("", width)).append(' ');
        for (String h : HEADERS) {
            sb.append(' ').append(padLeft(h, 9));
        }
        sb.append("\n\n");
        for (Scores r : rows) {
            row(sb, r, width, digits);
        }
        sb.append('\n');
        if (accuracy != null) {
            sb.append(padLeft("accuracy", width)).append(' ')
                    .append(' ').append(padLeft("", 9))
                    .append(' ').append(padLeft("", 9))
                    .append(' ').append(padLeft(fixed(accuracy, digits), 9))
                    .append(' ').append(padLeft(Long.toString(total), 9)).append('\n');
        }
        for (Scores r : averages) {
            row(sb, r, width, digits);
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, Scores r, int width, int digits) {
        sb.append(padLeft(r.name(), width)).append(' ')
                .append(' ').append(padLeft(fixed(r.precision(), digits), 9))
                .append(' ').append(padLeft(fixed(r.recall(), digits), 9))
                .append(' ').append(padLeft(fixed(r.f1(), digits), 9))
                .append(' ').append(padLeft(Long.toString(r.support()), 9)).append('\n');
    }

    /**
     * Python's {@code "{:.Nf}".format(v)}: the exact binary value rounded half-to-even. Java's
     * {@code String.format("%.2f", 0.125)} gives "0.13" where Python prints "0.12", so the formatter
     * is not used; {@code new BigDecimal(double)} is the exact value, and rounding it half-even is
     * what Python's correctly rounded formatting does.
     */
    static String fixed(double v, int digits) {
        return new BigDecimal(v).setScale(digits, RoundingMode.HALF_EVEN).toPlainString();
    }

    /** Python's {@code len}: code points, not UTF-16 units, so labels outside the BMP align as in Python. */
    static int width(String s) {
        return s.codePointCount(0, s.length());
    }

    /** Python's {@code "{:>w}"}: right-aligned, never truncated. */
    static String padLeft(String s, int w) {
        return " ".repeat(Math.max(0, w - width(s))) + s;
    }

    /** One row of {@code output_dict=True}: precision, recall, f1-score, support. */
    static ObjectNode json(Scores s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("precision", s.precision());
        n.put("recall", s.recall());
        n.put("f1-score", s.f1());
        n.put("support", s.support());
        return n;
    }

    static Scores scores(String name, JsonNode n, String where) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(where + ": \"" + name + "\" must be an object with precision, recall,"
                    + " f1-score and support; found " + n);
        }
        return new Scores(name, number(n, "precision", where + ": \"" + name + "\""),
                number(n, "recall", where + ": \"" + name + "\""), number(n, "f1-score", where + ": \"" + name + "\""),
                (long) number(n, "support", where + ": \"" + name + "\""));
    }

    static double number(JsonNode parent, String field, String where) {
        JsonNode v = parent.get(field);
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException(where + ": field \"" + field + "\" must be a number, found " + v);
        }
        return v.asDouble();
    }

    /** A nullable number: JSON null (or absent) is null. */
    static Double optionalNumber(JsonNode parent, String field, String where) {
        JsonNode v = parent.get(field);
        return v == null || v.isNull() ? null : number(parent, field, where);
    }

    static void putNullable(ObjectNode n, String field, Double v) {
        if (v == null) {
            n.putNull(field);
        } else {
            n.put(field, v);
        }
    }

    static String write(JsonNode n) {
        try {
            return JSON.writeValueAsString(n);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("could not write a report as JSON", e);
        }
    }

    static ObjectNode read(String json, String what) {
        JsonNode n;
        try {
            n = JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(what + " is not valid JSON: " + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr(), e);
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(what + " must be a JSON object, found " + n);
        }
        return (ObjectNode) n;
    }
}
