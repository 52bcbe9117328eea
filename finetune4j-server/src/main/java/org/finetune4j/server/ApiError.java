package org.finetune4j.server;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request the server refuses, with the HTTP status and a JSON body that tells the caller what to
 * change: {@code {"error": {"status", "code", "message", ...details}}}. Thrown by request parsing and
 * turned into a response by the server; it never reaches the model.
 */
final class ApiError extends RuntimeException {
    private final int status;
    private final String code;
    private final Map<String, Object> details;

    ApiError(int status, String code, String message, Map<String, Object> details) {
        super(message, null, false, false); // an answer to the caller, not a bug: no stack trace
        this.status = status;
        this.code = code;
        this.details = details;
    }

    ApiError(int status, String code, String message) {
        this(status, code, message, Map.of());
    }

    /** A configured limit was exceeded; the body names the limit, its value and the option that sets it. */
    static ApiError limit(int status, String limit, long value, String option, String message) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("limit", limit);
        d.put("limit_value", value);
        d.put("option", option);
        return new ApiError(status, "limit_exceeded", message, d);
    }

    /** A field is missing or has the wrong type or value. */
    static ApiError field(String field, String message) {
        return new ApiError(422, "invalid_field", message, Map.of("field", field));
    }

    String code() {
        return code;
    }

    int status() {
        return status;
    }

    Map<String, Object> body() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("status", status);
        e.put("code", code);
        e.put("message", getMessage());
        e.putAll(details);
        return Map.of("error", e);
    }
}
