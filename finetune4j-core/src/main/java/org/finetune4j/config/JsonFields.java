package org.finetune4j.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finetune4j.io.CheckpointException;

/** Typed, validated access to config.json fields; every error names the file and field. */
final class JsonFields {
    private final ObjectNode node;
    private final String where;

    JsonFields(ObjectNode node, String where) {
        this.node = node;
        this.where = where;
    }

    boolean has(String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    int positiveInt(String field, int dflt) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() <= 0) {
            throw error(field, "a positive integer", v);
        }
        return v.asInt();
    }

    int intValue(String field, int dflt) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw error(field, "an integer", v);
        }
        return v.asInt();
    }

    double probability(String field, double dflt) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber() || v.asDouble() < 0 || v.asDouble() >= 1) {
            throw error(field, "a number in [0, 1)", v);
        }
        return v.asDouble();
    }

    Double optionalProbability(String field) {
        return has(field) ? probability(field, 0) : null;
    }

    double positiveDouble(String field, double dflt) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber() || v.asDouble() <= 0) {
            throw error(field, "a positive number", v);
        }
        return v.asDouble();
    }

    String string(String field, String dflt) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isTextual()) {
            throw error(field, "a string", v);
        }
        return v.asText();
    }

    boolean bool(String field, boolean dflt) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw error(field, "true or false", v);
        }
        return v.asBoolean();
    }

    String oneOf(String field, String dflt, java.util.Collection<String> allowed) {
        String s = string(field, dflt);
        if (s != null && !allowed.contains(s)) {
            throw new CheckpointException(where + ": field \"" + field + "\" is \"" + s + "\"; supported values: "
                    + String.join(", ", new java.util.TreeSet<>(allowed)) + ".");
        }
        return s;
    }

    CheckpointException error(String field, String expected, JsonNode found) {
        return new CheckpointException(where + ": field \"" + field + "\" must be " + expected + ", found " + found
                + ". Fix config.json or re-export the model.");
    }
}
