package org.finetune4j.server;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A parsed, validated {@code POST /v1/classify} body, shaped as the Hugging Face text-classification
 * task's input: {@code {"inputs": "text" | ["text", ...], "parameters": {"top_k": N | null}}}.
 *
 * @param texts the texts, at least one
 * @param batch whether {@code inputs} was a list (the answer is then one entry per text)
 * @param ranked whether {@code top_k} was given: the answer per text is then a list of classes by score;
 *     without it, the answer per text is the predicted class alone (as the pipeline's default)
 * @param topK how many classes to rank, or null for all of them (only meaningful when {@code ranked})
 */
record ClassifyRequest(List<String> texts, boolean batch, boolean ranked, Integer topK) {
    private static final Set<String> FIELDS = Set.of("inputs", "parameters");
    private static final Set<String> PARAMETERS = Set.of("top_k");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    static ClassifyRequest parse(byte[] body, ServerConfig.Limits limits) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ApiError(400, "malformed_json", "the body is not valid JSON" + where + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ApiError(400, "malformed_json", "the body could not be read as JSON: " + e.getMessage());
        }
        if (root == null || root.isMissingNode()) {
            throw new ApiError(400, "malformed_json", "the body is empty; send {\"inputs\": \"some text\"}");
        }
        if (!root.isObject()) {
            throw ApiError.field("(body)", "the body must be a JSON object like {\"inputs\": \"some text\"}, not "
                    + kind(root));
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw ApiError.field(f, "unknown field \"" + f + "\"; the body takes \"inputs\" and optionally \"parameters\"");
            }
        }

        JsonNode inputs = root.get("inputs");
        List<String> texts = new ArrayList<>();
        boolean batch;
        if (inputs == null) {
            throw ApiError.field("inputs", "\"inputs\" is missing: send a text or a list of texts");
        } else if (inputs.isTextual()) {
            batch = false;
            texts.add(inputs.textValue());
        } else if (inputs.isArray()) {
            batch = true;
            if (inputs.isEmpty()) {
                throw ApiError.field("inputs", "\"inputs\" is an empty list: send at least one text");
            }
            if (inputs.size() > limits.maxTexts()) {
                throw ApiError.limit(422, "max_texts", limits.maxTexts(), "--max-texts",
                        inputs.size() + " texts in one request; at most " + limits.maxTexts() + " are allowed: split the request");
            }
            for (int i = 0; i < inputs.size(); i++) {
                JsonNode t = inputs.get(i);
                if (!t.isTextual()) {
                    throw ApiError.field("inputs[" + i + "]", "inputs[" + i + "] must be a string, not " + kind(t));
                }
                texts.add(t.textValue());
            }
        } else {
            throw ApiError.field("inputs", "\"inputs\" must be a string or a list of strings, not " + kind(inputs));
        }
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            int chars = t.codePointCount(0, t.length());
            if (chars > limits.maxChars()) {
                String which = batch ? "inputs[" + i + "]" : "inputs";
                throw ApiError.limit(422, "max_chars", limits.maxChars(), "--max-chars",
                        which + " has " + chars + " characters; at most " + limits.maxChars() + " are allowed per text");
            }
        }

        boolean ranked = false;
        Integer topK = null;
        JsonNode params = root.get("parameters");
        if (params != null && !params.isNull()) {
            if (!params.isObject()) {
                throw ApiError.field("parameters", "\"parameters\" must be an object like {\"top_k\": 3}, not " + kind(params));
            }
            for (Iterator<String> it = params.fieldNames(); it.hasNext(); ) {
                String p = it.next();
                if (!PARAMETERS.contains(p)) {
                    throw ApiError.field("parameters." + p, "unknown parameter \"" + p + "\"; supported: top_k");
                }
            }
            JsonNode k = params.get("top_k");
            if (k != null) {
                ranked = true;
                if (!k.isNull()) {
                    if (!k.isIntegralNumber() || !k.canConvertToInt() || k.intValue() < 1) {
                        throw ApiError.field("parameters.top_k", "\"top_k\" must be a whole number of at least 1, or null"
                                + " for every class, not " + k);
                    }
                    topK = k.intValue();
                }
            }
        }
        return new ClassifyRequest(List.copyOf(texts), batch, ranked, topK);
    }

    private static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "a list";
            case OBJECT -> "an object";
            case NUMBER -> "a number (" + n + ")";
            case BOOLEAN -> "a boolean (" + n + ")";
            case NULL -> "null";
            case STRING -> "a string";
            default -> n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
