package org.finetune4j.tune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The parameters a study searches, by name (TrainingArguments names where the concept is the same:
 * {@code learning_rate}, {@code num_train_epochs}, ...), in the order given.
 *
 * <p>Written on the command line as {@code name=dist(args)} ({@link #parse}) or in a JSON/YAML file
 * ({@link #read}):
 * <ul>
 *   <li>{@code uniform(a,b)}: floats in [a, b];</li>
 *   <li>{@code loguniform(a,b)}: floats in [a, b], uniform in log space (a &gt; 0);</li>
 *   <li>{@code int(a,b)}, {@code int(a,b,step)}, {@code int(a,b,log)}: integers a, a+step, ..., b;</li>
 *   <li>{@code choice(x,y,...)}: one of the values; integral literals are Integer, other numbers Double,
 *       {@code true}/{@code false} Boolean, anything else a string (quotes optional).</li>
 * </ul>
 */
public record SearchSpace(Map<String, Distribution> params) {
    public SearchSpace {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.\\-]*");
    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final String FORMS =
            "uniform(a,b), loguniform(a,b), int(a,b), int(a,b,step), int(a,b,log) or choice(x,y,...)";

    /** Parses {@code name=dist(args)} specs, in order; a name given twice is an error. */
    public static SearchSpace parse(List<String> specs) {
        Map<String, Distribution> params = new LinkedHashMap<>();
        for (String spec : specs) {
            int eq = spec.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("Search space spec '" + spec
                        + "': expected name=distribution, e.g. learning_rate=loguniform(1e-5,3e-4)");
            }
            String name = spec.substring(0, eq).trim();
            String where = "Search space spec '" + spec + "'";
            add(params, name, parseDistribution(spec.substring(eq + 1), where), where);
        }
        return new SearchSpace(params);
    }

    /**
     * Reads a search space from a {@code .json}, {@code .yaml} or {@code .yml} file: a map from parameter
     * name to either the command-line form ({@code "loguniform(1e-5,3e-4)"}) or an object
     * {@code {"type": "loguniform", "low": 1e-5, "high": 3e-4}}, {@code {"type": "int", "low": 1, "high": 5,
     * "step": 1, "log": false}}, {@code {"type": "choice", "values": [16, 32]}} ({@code uniform} like
     * {@code loguniform}).
     */
    public static SearchSpace read(Path file) throws IOException {
        String fileName = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        ObjectMapper mapper;
        if (fileName.endsWith(".json")) {
            mapper = new ObjectMapper();
        } else if (fileName.endsWith(".yaml") || fileName.endsWith(".yml")) {
            mapper = new ObjectMapper(new YAMLFactory());
        } else {
            throw new IllegalArgumentException("Search space file " + file
                    + ": unknown format; name it .json, .yaml or .yml");
        }
        JsonNode root;
        try {
            root = mapper.readTree(Files.readString(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("Search space file " + file + ": not valid "
                    + (fileName.endsWith(".json") ? "JSON" : "YAML") + ": " + e.getOriginalMessage()
                    + locationOf(e), e);
        }
        if (root == null || !root.isObject() || root.isEmpty()) {
            throw new IllegalArgumentException("Search space file " + file
                    + ": expected a map from parameter name to distribution, e.g. "
                    + "{\"learning_rate\": \"loguniform(1e-5,3e-4)\"}");
        }
        Map<String, Distribution> params = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String where = "Search space file " + file + ", parameter '" + field.getKey() + "'";
            JsonNode value = field.getValue();
            Distribution distribution;
            if (value.isTextual()) {
                distribution = parseDistribution(value.asText(), where);
            } else if (value.isObject()) {
                distribution = fromObject(value, where);
            } else {
                throw new IllegalArgumentException(where + ": expected a string like \"uniform(0,1)\" or an "
                        + "object like {\"type\": \"uniform\", \"low\": 0, \"high\": 1}, got " + value);
            }
            add(params, field.getKey().trim(), distribution, where);
        }
        return new SearchSpace(params);
    }

    private static String locationOf(com.fasterxml.jackson.core.JsonProcessingException e) {
        var location = e.getLocation();
        return location == null ? "" : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    private static void add(Map<String, Distribution> params, String name, Distribution distribution,
            String where) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(where + ": parameter name '" + name
                    + "' is not a name (letters, digits, '_', '.', '-'; not starting with a digit)");
        }
        if (params.containsKey(name)) {
            throw new IllegalArgumentException(where + ": parameter '" + name
                    + "' is given twice; give each parameter once");
        }
        params.put(name, distribution);
    }

    // ---------------------------------------------------------------- the string form: dist(args)

    private static Distribution parseDistribution(String text, String where) {
        String body = text.trim();
        int open = body.indexOf('(');
        if (open < 0 || !body.endsWith(")")) {
            throw new IllegalArgumentException(where + ": expected " + FORMS + ", got '" + body + "'");
        }
        String kind = body.substring(0, open).trim();
        List<String> args = splitArguments(body.substring(open + 1, body.length() - 1), where);
        switch (kind) {
            case "uniform", "loguniform" -> {
                if (args.size() != 2) {
                    throw new IllegalArgumentException(where + ": " + kind + " takes two numbers (low, high), got "
                            + args.size() + " argument(s)");
                }
                return floatRange(kind, number(args.get(0), "low", where), number(args.get(1), "high", where), where);
            }
            case "int" -> {
                if (args.size() < 2 || args.size() > 3) {
                    throw new IllegalArgumentException(where + ": int takes int(low,high), int(low,high,step) or "
                            + "int(low,high,log), got " + args.size() + " argument(s)");
                }
                int low = integer(args.get(0), "low", where);
                int high = integer(args.get(1), "high", where);
                if (args.size() == 2) {
                    return intRange(low, high, 1, false, where);
                }
                String third = args.get(2);
                if (third.equals("log")) {
                    return intRange(low, high, 1, true, where);
                }
                return intRange(low, high, integer(third, "step", where), false, where);
            }
            case "choice" -> {
                List<Object> values = new ArrayList<>();
                for (String arg : args) {
                    values.add(choiceValue(arg));
                }
                return choices(values, where);
            }
            default -> throw new IllegalArgumentException(where + ": unknown distribution '" + kind
                    + "'; use " + FORMS);
        }
    }

    /** Splits on commas outside quotes; an empty argument list "()" gives no arguments. */
    private static List<String> splitArguments(String inside, String where) {
        List<String> args = new ArrayList<>();
        if (inside.isBlank()) {
            return args;
        }
        StringBuilder current = new StringBuilder();
        char quote = 0;
        for (char c : inside.toCharArray()) {
            if (quote != 0) {
                current.append(c);
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                current.append(c);
            } else if (c == ',') {
                args.add(current.toString().trim());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException(where + ": unclosed quote " + quote + " in '" + inside + "'");
        }
        args.add(current.toString().trim());
        for (String arg : args) {
            if (arg.isEmpty()) {
                throw new IllegalArgumentException(where + ": empty argument in '(" + inside + ")'");
            }
        }
        return args;
    }

    private static double number(String token, String what, String where) {
        if (!NUMBER.matcher(token).matches()) {
            throw new IllegalArgumentException(where + ": " + what + " must be a number, got '" + token + "'");
        }
        return Double.parseDouble(token);
    }

    private static int integer(String token, String what, String where) {
        if (!INTEGER.matcher(token).matches()) {
            throw new IllegalArgumentException(where + ": " + what + " must be an integer, got '" + token + "'");
        }
        try {
            return Integer.parseInt(token);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": " + what + " " + token + " does not fit in an int");
        }
    }

    private static Object choiceValue(String token) {
        if (token.length() >= 2 && (token.charAt(0) == '"' || token.charAt(0) == '\'')
                && token.charAt(token.length() - 1) == token.charAt(0)) {
            return token.substring(1, token.length() - 1);
        }
        if (token.equals("true") || token.equals("false")) {
            return Boolean.parseBoolean(token);
        }
        if (INTEGER.matcher(token).matches()) {
            try {
                return Integer.parseInt(token);
            } catch (NumberFormatException e) {
                return Double.parseDouble(token);
            }
        }
        if (NUMBER.matcher(token).matches()) {
            return Double.parseDouble(token);
        }
        return token;
    }

    // ---------------------------------------------------------------- the object form: {"type": ...}

    private static Distribution fromObject(JsonNode node, String where) {
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) {
            throw new IllegalArgumentException(where + ": missing \"type\" (uniform, loguniform, int or choice)");
        }
        String kind = type.asText();
        switch (kind) {
            case "uniform", "loguniform" -> {
                onlyKeys(node, Set.of("type", "low", "high"), where);
                return floatRange(kind, numberField(node, "low", where), numberField(node, "high", where), where);
            }
            case "int" -> {
                onlyKeys(node, Set.of("type", "low", "high", "step", "log"), where);
                int step = node.has("step") ? intField(node, "step", where) : 1;
                boolean log = false;
                if (node.has("log")) {
                    if (!node.get("log").isBoolean()) {
                        throw new IllegalArgumentException(where + ": \"log\" must be true or false, got "
                                + node.get("log"));
                    }
                    log = node.get("log").asBoolean();
                }
                return intRange(intField(node, "low", where), intField(node, "high", where), step, log, where);
            }
            case "choice" -> {
                onlyKeys(node, Set.of("type", "values"), where);
                JsonNode values = node.get("values");
                if (values == null || !values.isArray()) {
                    throw new IllegalArgumentException(where + ": choice needs \"values\": a list, e.g. [16, 32]");
                }
                List<Object> choices = new ArrayList<>();
                for (JsonNode value : values) {
                    choices.add(jsonChoice(value, where));
                }
                return choices(choices, where);
            }
            default -> throw new IllegalArgumentException(where + ": unknown distribution type '" + kind
                    + "'; use uniform, loguniform, int or choice");
        }
    }

    private static void onlyKeys(JsonNode node, Set<String> allowed, String where) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String key = names.next();
            if (!allowed.contains(key)) {
                throw new IllegalArgumentException(where + ": unknown key '" + key + "' for type "
                        + node.get("type").asText() + "; allowed: " + new java.util.TreeSet<>(allowed));
            }
        }
    }

    private static double numberField(JsonNode node, String key, String where) {
        JsonNode value = node.get(key);
        if (value == null || !value.isNumber()) {
            throw new IllegalArgumentException(where + ": \"" + key + "\" must be a number, got " + value);
        }
        return value.asDouble();
    }

    private static int intField(JsonNode node, String key, String where) {
        JsonNode value = node.get(key);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new IllegalArgumentException(where + ": \"" + key + "\" must be an integer, got " + value);
        }
        return value.asInt();
    }

    private static Object jsonChoice(JsonNode value, String where) {
        if (value.isIntegralNumber() && value.canConvertToInt()) {
            return value.asInt();
        }
        if (value.isNumber()) {
            return value.asDouble();
        }
        if (value.isBoolean()) {
            return value.asBoolean();
        }
        if (value.isTextual()) {
            return value.asText();
        }
        throw new IllegalArgumentException(where + ": a choice must be a number, string or boolean, got " + value);
    }

    // ---------------------------------------------------------------- validation shared by both forms

    private static Distribution floatRange(String kind, double low, double high, String where) {
        if (!(low < high)) {
            throw new IllegalArgumentException(where + ": " + kind + " needs low < high, got low=" + low
                    + " high=" + high);
        }
        if (kind.equals("loguniform")) {
            if (low <= 0) {
                throw new IllegalArgumentException(where + ": loguniform needs low > 0, got low=" + low
                        + "; use uniform for a range that reaches 0 or below");
            }
            return new Distribution.LogUniform(low, high);
        }
        return new Distribution.Uniform(low, high);
    }

    private static Distribution intRange(int low, int high, int step, boolean log, String where) {
        if (low >= high) {
            throw new IllegalArgumentException(where + ": int needs low < high, got low=" + low + " high=" + high);
        }
        if (step < 1) {
            throw new IllegalArgumentException(where + ": int step must be at least 1, got " + step);
        }
        if ((high - low) % step != 0) {
            throw new IllegalArgumentException(where + ": int(" + low + "," + high + "," + step
                    + "): high - low must be a multiple of step; use high=" + (high - (high - low) % step));
        }
        if (log && low <= 0) {
            throw new IllegalArgumentException(where + ": int(...,log) needs low >= 1, got low=" + low);
        }
        return new Distribution.IntRange(low, high, step, log);
    }

    private static Distribution choices(List<Object> values, String where) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException(where + ": choice needs at least one value, e.g. choice(16,32)");
        }
        for (int i = 0; i < values.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (values.get(i).equals(values.get(j))) {
                    throw new IllegalArgumentException(where + ": choice lists " + values.get(i)
                            + " twice; list each value once");
                }
            }
        }
        return new Distribution.Categorical(List.copyOf(values));
    }
}
