package org.finetune4j.hub;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Where and how to fetch models from the Hugging Face Hub. {@link #fromEnvironment()} reads the same
 * variables as Python's huggingface_hub, so both share one cache and one login.
 *
 * @param endpoint the Hub's base URL ({@code HF_ENDPOINT}, default https://huggingface.co); a mirror works
 *     if it answers {@code /resolve/} URLs with the Hub's headers
 * @param cacheDir the Hub cache ({@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else
 *     {@code ~/.cache/huggingface/hub}); one {@code models--org--name} folder per repository
 * @param token a user access token sent as {@code Authorization: Bearer} to the endpoint only, or null
 *     ({@code HF_TOKEN}, else the file {@code huggingface-cli login} writes)
 * @param offline use only what the cache holds, make no request ({@code HF_HUB_OFFLINE=1})
 */
public record HubConfig(URI endpoint, Path cacheDir, String token, boolean offline) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    /** The values huggingface_hub's constants accept as true for HF_HUB_OFFLINE. */
    private static final Set<String> TRUE = Set.of("1", "on", "yes", "true");

    public HubConfig {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(cacheDir, "cacheDir");
        endpoint = checkEndpoint(endpoint.toString(), "the Hub endpoint");
        cacheDir = cacheDir.toAbsolutePath().normalize();
        token = token == null || token.isBlank() ? null : token.strip();
    }

    /** The configuration the process environment gives. */
    public static HubConfig fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** The configuration {@code env} gives, with {@code userHome} standing for {@code ~}. */
    public static HubConfig fromEnvironment(Map<String, String> env, Path userHome) {
        String xdg = value(env, "XDG_CACHE_HOME");
        Path hfHome = value(env, "HF_HOME") != null ? Path.of(value(env, "HF_HOME"))
                : (xdg != null ? Path.of(xdg) : userHome.resolve(".cache")).resolve("huggingface");
        Path cache = value(env, "HF_HUB_CACHE") != null ? Path.of(value(env, "HF_HUB_CACHE")) : hfHome.resolve("hub");
        URI endpoint = value(env, "HF_ENDPOINT") == null ? URI.create(DEFAULT_ENDPOINT)
                : checkEndpoint(value(env, "HF_ENDPOINT"), "HF_ENDPOINT");
        String token = value(env, "HF_TOKEN");
        if (token == null) {
            Path file = value(env, "HF_TOKEN_PATH") != null ? Path.of(value(env, "HF_TOKEN_PATH")) : hfHome.resolve("token");
            token = readToken(file);
        }
        String offline = value(env, "HF_HUB_OFFLINE");
        return new HubConfig(endpoint, cache, token, offline != null && TRUE.contains(offline.toLowerCase(Locale.ROOT)));
    }

    public HubConfig withOffline(boolean offline) {
        return new HubConfig(endpoint, cacheDir, token, offline);
    }

    public HubConfig withToken(String token) {
        return new HubConfig(endpoint, cacheDir, token, offline);
    }

    /** Never prints the token itself, so a config can be logged. */
    @Override
    public String toString() {
        return "HubConfig[endpoint=" + endpoint + ", cacheDir=" + cacheDir + ", token=" + (token == null ? "none" : "set")
                + ", offline=" + offline + "]";
    }

    private static String value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static String readToken(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the Hugging Face token file " + file + " (" + e.getMessage()
                    + "). Fix its permissions, or set HF_TOKEN instead.", e);
        }
    }

    private static URI checkEndpoint(String text, String what) {
        String trimmed = text.strip().replaceAll("/+$", "");
        try {
            URI uri = new URI(trimmed);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null && uri.getQuery() == null
                    && uri.getFragment() == null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw new IllegalArgumentException(what + " \"" + text + "\" is not an http(s) base URL such as "
                + DEFAULT_ENDPOINT + ". Fix or unset it.");
    }
}
