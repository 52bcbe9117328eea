package org.finetune4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.finetune4j.api.Prediction;
import org.finetune4j.api.TextClassifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP front door for one {@link TextClassifier}:
 * <ul>
 *   <li>{@code POST /v1/classify}: texts in, labels and scores out (Hugging Face text-classification shape)</li>
 *   <li>{@code GET /v1/model}: labels, settings and saved metrics</li>
 *   <li>{@code GET /healthz}: liveness, never behind the token</li>
 *   <li>{@code GET /}: a page to try the model</li>
 * </ul>
 * Handlers only parse, call the model and write JSON. {@link #close()} shuts down gracefully: the port
 * stops accepting, requests in flight finish (up to the drain timeout), then the batcher stops. The
 * caller closes the classifier afterwards.
 */
public final class ClassificationServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClassificationServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WEB = "/org/finetune4j/server/web/";
    /** The page and its script come from this server only; nothing inline, nothing from elsewhere. */
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
            + " img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private final ServerConfig config;
    private final Inference inference;
    private final BearerAuth auth;
    private final Map<String, Object> modelInfo;
    private final Javalin app;

    private ClassificationServer(Function<List<String>, List<Prediction>> model, Map<String, Object> modelInfo,
            ServerConfig config) {
        this.config = config;
        this.modelInfo = modelInfo;
        this.auth = config.auth().required() ? new BearerAuth(config.auth().token()) : null;
        this.inference = config.batching().enabled()
                ? new MicroBatcher(model, config.batching())
                : Inference.direct(model);
        this.app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.http.maxRequestSize = config.limits().maxBodyBytes();
            cfg.http.prefer405over404 = true;
            cfg.jetty.modifyServer(server -> server.setStopTimeout(config.network().drainTimeout().toMillis()));
        });
        routes();
    }

    /**
     * Starts serving {@code classifier} as {@code config} says.
     *
     * @param modelDir the model directory (or the base model's, with an adapter): names the model and
     *     holds its eval_results.json
     * @param adapterDir the LoRA adapter directory, or null
     */
    public static ClassificationServer start(TextClassifier classifier, Path modelDir, Path adapterDir, ServerConfig config) {
        return start(classifier::predictBatch, ModelInfo.describe(classifier, modelDir, adapterDir), config);
    }

    /** Serves any batch predictor (tests use a slow or counting one); {@code modelInfo} is what /v1/model answers. */
    static ClassificationServer start(Function<List<String>, List<Prediction>> model, Map<String, Object> modelInfo,
            ServerConfig config) {
        ClassificationServer s = new ClassificationServer(model, modelInfo, config);
        try {
            s.app.start(config.network().host(), config.network().port());
        } catch (Exception e) { // Javalin's Kotlin code throws checked exceptions undeclared (ExecutionException)
            s.inference.close();
            String where = config.network().host() + ":" + config.network().port();
            String what = inUse(config.network().host(), config.network().port()) ? where + " is in use"
                    : "cannot listen on " + where + " (" + rootMessage(e) + ")";
            throw new IllegalArgumentException(what + "; choose another --port or --host", e);
        }
        return s;
    }

    /** Whether another socket holds {@code host:port} (Jetty's own error then only says "STOPPED"). */
    private static boolean inUse(String host, int port) {
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.bind(new java.net.InetSocketAddress(host, port));
            return false;
        } catch (java.io.IOException e) {
            return e instanceof java.net.BindException;
        }
    }

    private void routes() {
        app.before(ctx -> {
            ctx.header("X-Content-Type-Options", "nosniff");
            ctx.header("Referrer-Policy", "no-referrer");
            ctx.header("Cache-Control", "no-store");
        });
        if (auth != null) {
            app.before("/v1/*", ctx -> auth.check(ctx.header("Authorization")));
        }
        app.post("/v1/classify", this::classify);
        app.get("/v1/model", ctx -> json(ctx, 200, modelInfo));
        app.get("/healthz", ctx -> json(ctx, 200, Map.of("status", "ok")));
        app.get("/", ctx -> page(ctx, "index.html", "text/html; charset=utf-8"));
        app.get("/app.js", ctx -> page(ctx, "app.js", "text/javascript; charset=utf-8"));
        app.get("/style.css", ctx -> page(ctx, "style.css", "text/css; charset=utf-8"));
        app.get("/favicon.ico", ctx -> ctx.status(204)); // browsers ask; there is none

        app.exception(ApiError.class, (e, ctx) -> {
            if (e.status() == 401) {
                String err = e.code().equals("invalid_token") ? ", error=\"invalid_token\"" : "";
                ctx.header("WWW-Authenticate", BearerAuth.CHALLENGE + err);
            }
            json(ctx, e.status(), e.body());
        });
        app.exception(Exception.class, (e, ctx) -> {
            log.error("{} {} failed", ctx.method(), ctx.path(), e);
            json(ctx, 500, new ApiError(500, "internal_error", "the server failed on this request ("
                    + e.getClass().getSimpleName() + "); the server log has the details").body());
        });
        app.error(404, ctx -> json(ctx, 404, new ApiError(404, "not_found", "no such endpoint: " + ctx.method() + " "
                + ctx.path() + "; try POST /v1/classify, GET /v1/model, GET /healthz or GET /").body()));
        app.error(405, ctx -> json(ctx, 405, new ApiError(405, "method_not_allowed", ctx.method() + " is not allowed on "
                + ctx.path()).body()));
    }

    private void classify(Context ctx) throws InterruptedException {
        String type = ctx.contentType();
        // Requiring JSON also makes a cross-site browser request need a CORS preflight, which this server never grants.
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw new ApiError(415, "unsupported_media_type", "send the body as JSON with the header"
                    + " \"Content-Type: application/json\" (got " + (type == null ? "none" : "\"" + type + "\"") + ")");
        }
        ClassifyRequest req = ClassifyRequest.parse(body(ctx), config.limits());
        List<Prediction> predictions = inference.classify(req.texts());
        json(ctx, 200, ClassifyResponse.of(req, predictions));
    }

    /** The request body, refused with 413 as soon as it is known to exceed the limit (header or bytes read). */
    private byte[] body(Context ctx) {
        long max = config.limits().maxBodyBytes();
        long declared = ctx.req().getContentLengthLong();
        if (declared > max) {
            throw tooLarge(declared + " bytes");
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (b.length > max) {
                throw tooLarge("more than " + max + " bytes");
            }
            return b;
        } catch (IOException e) {
            throw new ApiError(400, "unreadable_body", "the request body could not be read: " + e.getMessage());
        }
    }

    private ApiError tooLarge(String size) {
        long max = config.limits().maxBodyBytes();
        return ApiError.limit(413, "max_body_bytes", max, "--max-body-bytes",
                "the body has " + size + "; at most " + max + " bytes are allowed: send fewer or shorter texts");
    }

    private static void json(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(JSON.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private void page(Context ctx, String file, String contentType) {
        try (InputStream in = ClassificationServer.class.getResourceAsStream(WEB + file)) {
            if (in == null) {
                throw new IllegalStateException(WEB + file + " is missing from the classpath: the server jar is incomplete");
            }
            ctx.header("Content-Security-Policy", CSP).contentType(contentType).result(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String rootMessage(Throwable e) {
        while (e.getCause() != null) {
            e = e.getCause();
        }
        return e.getMessage();
    }

    /** The port it listens on (the one chosen, when started with port 0). */
    public int port() {
        return app.port();
    }

    /** The base URL, e.g. {@code http://127.0.0.1:8080}. */
    public String url() {
        String host = config.network().host();
        String shown = host.equals("0.0.0.0") ? "127.0.0.1" : host.contains(":") ? "[" + host + "]" : host;
        return "http://" + shown + ":" + port();
    }

    /** Forward passes run so far: with batching, fewer than the requests when they arrive together. */
    public long forwardPasses() {
        return inference.forwardPasses();
    }

    public ServerConfig config() {
        return config;
    }

    /** Graceful: stop accepting, let requests in flight finish (up to the drain timeout), stop the batcher. */
    @Override
    public void close() {
        app.stop();
        inference.close();
    }
}
