package org.finetune4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.finetune4j.api.Prediction;
import org.finetune4j.api.TextClassifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API against a tiny random classifier: every server binds 127.0.0.1 port 0. */
class ClassificationServerTest {
    private static final double TOL = 1e-5; // the same text batched with others pads differently: float noise only
    private static final List<String> TEXTS = List.of("my parcel never arrived", "I was charged twice this month",
            "the app crashes when I log in", "where is my order?", "refund please");

    @TempDir
    static Path modelDir;
    static TextClassifier classifier;

    @BeforeAll
    static void load() {
        TinyClassifier.write(modelDir);
        classifier = TextClassifier.load(modelDir);
    }

    @AfterAll
    static void close() {
        classifier.close();
    }

    static ServerConfig config() {
        return ServerConfig.defaults().withNetwork(ServerConfig.Network.defaults().withPort(0));
    }

    static ClassificationServer serve(ServerConfig cfg) {
        return ClassificationServer.start(classifier, modelDir, null, cfg);
    }

    static String classify(ClassificationServer s) {
        return s.url() + "/v1/classify";
    }

    static void assertSameAsPredict(String text, JsonNode entry) {
        Prediction p = classifier.predict(text);
        assertEquals(p.label(), entry.get("label").asText(), text);
        assertEquals(p.score(), entry.get("score").asDouble(), TOL, text);
    }

    /** Held by a process that is not Jetty: Javalin then throws an undeclared checked exception. */
    @Test
    void aPortHeldByAnotherSocketIsNamedWithWhatToDo() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            ServerConfig cfg = ServerConfig.defaults().withNetwork(ServerConfig.Network.defaults().withPort(taken.getLocalPort()));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> serve(cfg).close());
            assertTrue(e.getMessage().contains("127.0.0.1:" + taken.getLocalPort() + " is in use; choose another --port"),
                    e.getMessage());
        }
    }

    @Test
    void oneTextGivesAListWithItsPredictionAsTextClassifierPredicts() {
        try (ClassificationServer s = serve(config())) {
            Http.Response r = Http.postJson(classify(s), "{\"inputs\": \"my parcel never arrived\"}");
            assertEquals(200, r.status(), r.body());
            assertEquals(1, r.json().size());
            assertEquals(2, r.json().get(0).size(), "just label and score: " + r.body());
            assertSameAsPredict("my parcel never arrived", r.json().get(0));
        }
    }

    @Test
    void aBatchGivesOneEntryPerTextInOrder() throws Exception {
        try (ClassificationServer s = serve(config())) {
            Http.Response r = Http.postJson(classify(s), Http.JSON.writeValueAsString(Map.of("inputs", TEXTS)));
            assertEquals(200, r.status(), r.body());
            assertEquals(TEXTS.size(), r.json().size());
            for (int i = 0; i < TEXTS.size(); i++) {
                assertTrue(r.json().get(i).isObject(), "one object per text without top_k: " + r.body());
                assertSameAsPredict(TEXTS.get(i), r.json().get(i));
            }
        }
    }

    @Test
    void topKRanksTheClassesByScore() throws Exception {
        String text = TEXTS.get(2);
        Prediction p = classifier.predict(text);
        List<Map.Entry<String, Double>> expected = new ArrayList<>(p.scores().entrySet());
        expected.sort(Map.Entry.<String, Double>comparingByValue().reversed());
        try (ClassificationServer s = serve(config())) {
            JsonNode two = Http.postJson(classify(s), "{\"inputs\": \"" + text + "\", \"parameters\": {\"top_k\": 2}}").json();
            assertEquals(2, two.size());
            for (int i = 0; i < 2; i++) {
                assertEquals(expected.get(i).getKey(), two.get(i).get("label").asText());
                assertEquals(expected.get(i).getValue(), two.get(i).get("score").asDouble(), TOL);
            }

            JsonNode all = Http.postJson(classify(s), "{\"inputs\": \"" + text + "\", \"parameters\": {\"top_k\": null}}").json();
            assertEquals(3, all.size());
            double sum = 0;
            for (int i = 0; i < 3; i++) {
                sum += all.get(i).get("score").asDouble();
                if (i > 0) {
                    assertTrue(all.get(i - 1).get("score").asDouble() >= all.get(i).get("score").asDouble(), all.toString());
                }
            }
            assertEquals(1.0, sum, 1e-5, "softmax scores of every class");

            JsonNode clamped = Http.postJson(classify(s), "{\"inputs\": \"" + text + "\", \"parameters\": {\"top_k\": 10}}").json();
            assertEquals(3, clamped.size(), "top_k beyond the label count gives every class");

            JsonNode batch = Http.postJson(classify(s), "{\"inputs\": [\"a\", \"b\"], \"parameters\": {\"top_k\": 1}}").json();
            assertEquals(2, batch.size());
            assertTrue(batch.get(0).isArray() && batch.get(0).size() == 1, "a batch with top_k: a list per text: " + batch);
            assertEquals(classifier.predict("b").label(), batch.get(1).get(0).get("label").asText());
        }
    }

    @Test
    void everyLimitIsEnforcedAndNamedAndTheServerKeepsServing() {
        ServerConfig cfg = config().withLimits(new ServerConfig.Limits(300, 3, 20));
        try (ClassificationServer s = serve(cfg)) {
            String big = "{\"inputs\": \"" + "x ".repeat(200) + "\"}";
            Http.Response body = Http.postJson(classify(s), big);
            assertEquals(413, body.status(), body.body());
            assertEquals("max_body_bytes", body.error("limit"));
            assertEquals("300", body.error("limit_value"));
            assertEquals("--max-body-bytes", body.error("option"));

            // Without a Content-Length (chunked), the server counts the bytes as it reads.
            Http.Response chunked = Http.post(classify(s), HttpRequest.BodyPublishers.ofInputStream(
                    () -> new ByteArrayInputStream(big.getBytes(java.nio.charset.StandardCharsets.UTF_8))),
                    "Content-Type", "application/json");
            assertEquals(413, chunked.status(), chunked.body());
            assertEquals("max_body_bytes", chunked.error("limit"));

            Http.Response texts = Http.postJson(classify(s), "{\"inputs\": [\"a\", \"b\", \"c\", \"d\"]}");
            assertEquals(422, texts.status(), texts.body());
            assertEquals("max_texts", texts.error("limit"));
            assertEquals("3", texts.error("limit_value"));
            assertTrue(texts.error("message").contains("4 texts"), texts.body());

            Http.Response chars = Http.postJson(classify(s), "{\"inputs\": [\"short\", \"" + "y".repeat(21) + "\"]}");
            assertEquals(422, chars.status(), chars.body());
            assertEquals("max_chars", chars.error("limit"));
            assertEquals("20", chars.error("limit_value"));
            assertTrue(chars.error("message").startsWith("inputs[1] has 21 characters"), chars.body());

            // Characters are code points: 20 emoji (40 UTF-16 units) are within the limit.
            Http.Response emoji = Http.postJson(classify(s), "{\"inputs\": \"" + "\uD83D\uDE00".repeat(20) + "\"}");
            assertEquals(200, emoji.status(), emoji.body());

            Http.Response ok = Http.postJson(classify(s), "{\"inputs\": [\"a\", \"b\", \"c\"]}");
            assertEquals(200, ok.status(), ok.body());
        }
    }

    @Test
    void badRequestsSayWhatIsWrongAndTheServerKeepsServing() {
        try (ClassificationServer s = serve(config())) {
            Http.Response truncated = Http.postJson(classify(s), "{\"inputs\": ");
            assertEquals(400, truncated.status(), truncated.body());
            assertEquals("malformed_json", truncated.error("code"));
            assertTrue(truncated.error("message").contains("line 1, column"), truncated.body());

            Http.Response trailing = Http.postJson(classify(s), "{\"inputs\": \"a\"} {}");
            assertEquals(400, trailing.status(), trailing.body());

            Http.Response duplicate = Http.postJson(classify(s), "{\"inputs\": \"a\", \"inputs\": \"b\"}");
            assertEquals(400, duplicate.status(), duplicate.body());
            assertTrue(duplicate.error("message").contains("Duplicate field 'inputs'"), duplicate.body());

            assertEquals(400, Http.postJson(classify(s), "").status());

            assertField(Http.postJson(classify(s), "[\"a\"]"), "(body)");
            assertField(Http.postJson(classify(s), "{\"text\": \"a\"}"), "text");
            assertField(Http.postJson(classify(s), "{}"), "inputs");
            assertField(Http.postJson(classify(s), "{\"inputs\": 5}"), "inputs");
            assertField(Http.postJson(classify(s), "{\"inputs\": []}"), "inputs");
            assertField(Http.postJson(classify(s), "{\"inputs\": [\"a\", 3]}"), "inputs[1]");
            assertField(Http.postJson(classify(s), "{\"inputs\": \"a\", \"parameters\": 3}"), "parameters");
            assertField(Http.postJson(classify(s), "{\"inputs\": \"a\", \"parameters\": {\"top_k\": \"2\"}}"), "parameters.top_k");
            assertField(Http.postJson(classify(s), "{\"inputs\": \"a\", \"parameters\": {\"top_k\": 0}}"), "parameters.top_k");
            assertField(Http.postJson(classify(s), "{\"inputs\": \"a\", \"parameters\": {\"top_k\": 1.5}}"), "parameters.top_k");
            assertField(Http.postJson(classify(s), "{\"inputs\": \"a\", \"parameters\": {\"temperature\": 1}}"),
                    "parameters.temperature");

            Http.Response form = Http.post(classify(s), HttpRequest.BodyPublishers.ofString("{\"inputs\": \"a\"}"),
                    "Content-Type", "application/x-www-form-urlencoded");
            assertEquals(415, form.status(), form.body());
            assertTrue(form.error("message").contains("Content-Type: application/json"), form.body());

            Http.Response wrongMethod = Http.get(classify(s));
            assertEquals(405, wrongMethod.status(), wrongMethod.body());
            Http.Response nowhere = Http.get(s.url() + "/v2/nothing");
            assertEquals(404, nowhere.status());
            assertEquals("not_found", nowhere.error("code"));

            Http.Response ok = Http.postJson(classify(s), "{\"inputs\": \"still serving\"}");
            assertEquals(200, ok.status(), ok.body());
            assertSameAsPredict("still serving", ok.json().get(0));
        }
    }

    private static void assertField(Http.Response r, String field) {
        assertEquals(422, r.status(), r.body());
        assertEquals("invalid_field", r.error("code"), r.body());
        assertEquals(field, r.error("field"), r.body());
    }

    @Test
    void aTokenIsRequiredOnTheApiWhenSet() {
        try (ClassificationServer s = serve(config().withAuth(new ServerConfig.Auth("s3cret-token")))) {
            String good = "{\"inputs\": \"hello\"}";
            Http.Response none = Http.postJson(classify(s), good);
            assertEquals(401, none.status());
            assertEquals("missing_token", none.error("code"));
            assertEquals("Bearer realm=\"finetune4j\"", none.headers().firstValue("WWW-Authenticate").orElse(null));

            Http.Response wrong = Http.postJson(classify(s), good, "Authorization", "Bearer s3cret-tokem");
            assertEquals(401, wrong.status());
            assertEquals("invalid_token", wrong.error("code"));
            assertTrue(wrong.headers().firstValue("WWW-Authenticate").orElse("").contains("error=\"invalid_token\""));
            assertEquals(401, Http.postJson(classify(s), good, "Authorization", "Basic s3cret-token").status());
            assertEquals(401, Http.postJson(classify(s), good, "Authorization", "Bearer s3cret").status(), "a prefix");
            assertEquals(401, Http.get(s.url() + "/v1/model").status());

            assertEquals(200, Http.postJson(classify(s), good, "Authorization", "Bearer s3cret-token").status());
            assertEquals(200, Http.get(s.url() + "/v1/model", "Authorization", "bearer s3cret-token").status());
            assertEquals(200, Http.get(s.url() + "/healthz").status(), "probes need no token");
            // The page is public and holds no secret: it asks the person for the token itself.
            for (String asset : new String[] {"/", "/app.js", "/style.css"}) {
                Http.Response r = Http.get(s.url() + asset);
                assertEquals(200, r.status(), asset);
                assertFalse(r.body().contains("s3cret"), asset + " must not contain the token");
            }
        }
    }

    @Test
    void healthzAndModelDescribeTheServer() {
        try (ClassificationServer s = serve(config())) {
            Http.Response h = Http.get(s.url() + "/healthz");
            assertEquals(200, h.status());
            assertEquals("ok", h.json().get("status").asText());

            JsonNode m = Http.get(s.url() + "/v1/model").json();
            assertEquals("[\"billing\",\"delivery\",\"technical\"]", m.get("labels").toString());
            assertEquals("BertForSequenceClassification", m.get("architecture").asText());
            assertEquals("bert", m.get("model_type").asText());
            assertEquals("single_label_classification", m.get("problem_type").asText());
            assertEquals(classifier.maxLength(), m.get("max_length").asInt());
            assertTrue(m.get("decision_threshold").isNull(), "argmax model: " + m);
            assertEquals(0.3333, m.get("metrics").get("eval_accuracy").asDouble(), 1e-9);
            assertEquals(4, m.get("metrics").size(), "every metric of eval_results.json");
            assertTrue(m.get("test_metrics").isNull());
            assertEquals(modelDir.getFileName().toString(), m.get("model").asText());
        }
    }

    @Test
    void thePageAndItsAssetsAreServedFromTheClasspath() {
        try (ClassificationServer s = serve(config())) {
            Http.Response page = Http.get(s.url() + "/");
            assertEquals(200, page.status());
            assertTrue(page.body().contains("<textarea id=\"text\""), page.body());
            assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
            assertTrue(!page.body().contains("http://") && !page.body().contains("https://"), "nothing from elsewhere");
            Http.Response js = Http.get(s.url() + "/app.js");
            assertEquals(200, js.status());
            assertTrue(js.headers().firstValue("Content-Type").orElse("").startsWith("text/javascript"));
            assertTrue(js.body().contains("/v1/classify"));
            assertEquals(200, Http.get(s.url() + "/style.css").status());
        }
    }

    @Test
    void concurrentRequestsShareForwardPasses() throws Exception {
        int clients = 12;
        ServerConfig cfg = config().withBatching(new ServerConfig.Batching(true, Duration.ofMillis(200), 32, 256, 1));
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try (ClassificationServer s = serve(cfg)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Http.Response>> answers = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                String text = TEXTS.get(i % TEXTS.size()) + " #" + i;
                answers.add(pool.submit(() -> {
                    go.await();
                    return Http.postJson(classify(s), Http.JSON.writeValueAsString(Map.of("inputs", text)));
                }));
            }
            go.countDown();
            for (int i = 0; i < clients; i++) {
                Http.Response r = answers.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(200, r.status(), r.body());
                assertSameAsPredict(TEXTS.get(i % TEXTS.size()) + " #" + i, r.json().get(0));
            }
            assertTrue(s.forwardPasses() < clients, s.forwardPasses() + " forward passes for " + clients + " requests");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void withoutBatchingEachRequestIsItsOwnForwardPass() {
        try (ClassificationServer s = serve(config().withBatching(ServerConfig.Batching.off()))) {
            for (String t : TEXTS) {
                Http.Response r = Http.postJson(classify(s), "{\"inputs\": \"" + t + "\"}");
                assertEquals(200, r.status(), r.body());
                assertSameAsPredict(t, r.json().get(0));
            }
            assertEquals(TEXTS.size(), s.forwardPasses());
        }
    }

    @Test
    void shutdownFinishesRequestsInFlightThenStopsListening() throws Exception {
        CountDownLatch inModel = new CountDownLatch(1);
        java.util.function.Function<List<String>, List<Prediction>> slow = texts -> {
            inModel.countDown();
            try {
                Thread.sleep(700);
            } catch (InterruptedException e) {
                throw new IllegalStateException("interrupted: the shutdown did not wait", e);
            }
            return classifier.predictBatch(texts);
        };
        ClassificationServer s = ClassificationServer.start(slow, Map.of(), config());
        String url = classify(s);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Http.Response> inFlight = pool.submit(() -> Http.postJson(url, "{\"inputs\": \"slow one\"}"));
            assertTrue(inModel.await(30, TimeUnit.SECONDS));
            long t0 = System.nanoTime();
            s.close(); // returns once the request in flight has been answered
            assertTrue(inFlight.isDone(), "close() waited for the request in flight");
            assertTrue(System.nanoTime() - t0 > TimeUnit.MILLISECONDS.toNanos(300), "close() did not wait");
            Http.Response r = inFlight.get();
            assertEquals(200, r.status(), r.body());
            assertSameAsPredict("slow one", r.json().get(0));
            assertThrows(java.io.UncheckedIOException.class, () -> Http.postJson(url, "{\"inputs\": \"too late\"}"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aPortInUseIsAClearError() {
        try (ClassificationServer s = serve(config())) {
            ServerConfig same = config().withNetwork(new ServerConfig.Network("127.0.0.1", s.port(), Duration.ZERO));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> serve(same));
            assertTrue(e.getMessage().contains("127.0.0.1:" + s.port() + " is in use; choose another --port"), e.getMessage());
        }
    }

    @Test
    void configIsValidatedWhenBuilt() {
        assertThrows(IllegalArgumentException.class, () -> new ServerConfig.Network("127.0.0.1", 70000, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new ServerConfig.Limits(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new ServerConfig.Batching(true, Duration.ofMillis(-1), 32, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new ServerConfig.Auth(" "));
        assertThrows(IllegalArgumentException.class, () -> new ServerConfig.Auth(""));
        // What a browser's fetch cannot put in a header (the page would fail with a message about headers).
        for (String bad : new String[] {"two words", "line\nbreak", "\uFEFFbom", "caf\u00e9", " padded"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ServerConfig.Auth(bad), bad);
            assertTrue(e.getMessage().contains("visible ASCII") && e.getMessage().contains("--token-file"), e.getMessage());
        }
        assertEquals("A-z_0.9~+/=!", new ServerConfig.Auth("A-z_0.9~+/=!").token());
        assertNull(ServerConfig.defaults().auth().token());
        assertEquals("127.0.0.1", ServerConfig.defaults().network().host(), "loopback unless told otherwise");
        assertTrue(!new ServerConfig.Auth("hunter2").toString().contains("hunter2"), "the token never shows in logs");
    }
}
