package org.finetune4j.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Checks {@code Authorization: Bearer TOKEN} (RFC 6750). The comparison is over SHA-256 digests with
 * {@link MessageDigest#isEqual}, so its time depends on neither the token's content nor its length.
 */
final class BearerAuth {
    static final String CHALLENGE = "Bearer realm=\"finetune4j\"";
    private final byte[] expected;

    BearerAuth(String token) {
        this.expected = sha256(token);
    }

    /** Throws a 401 unless {@code authorization} (the header's value, maybe null) carries the token. */
    void check(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw new ApiError(401, "missing_token", "this server needs a token: send the header"
                    + " \"Authorization: Bearer TOKEN\" (the token the server was started with: --token-file, --token or FINETUNE4J_TOKEN)");
        }
        String prefix = "bearer ";
        boolean bearer = authorization.length() > prefix.length()
                && authorization.regionMatches(true, 0, prefix, 0, prefix.length());
        byte[] given = sha256(bearer ? authorization.substring(prefix.length()).strip() : "");
        if (!bearer | !MessageDigest.isEqual(expected, given)) {
            throw new ApiError(401, "invalid_token", "the bearer token is wrong; send \"Authorization: Bearer TOKEN\""
                    + " with the token the server was started with");
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
