package org.finetune4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.finetune4j.api.TextClassifier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Load generator: N concurrent clients, each sending one-text classify requests back to back over
 * loopback, bounded by time and by a request budget; once with micro-batching and once without.
 * Prints requests/s, p50/p99 latency and failures as a Markdown table (also written to
 * target/serving-benchmark.md). Not part of the test suite; with a model from
 * {@code ./finetune4j train --output /tmp/serve-model}, run it as:
 * <pre>
 * mvn -B -o -pl finetune4j-server -am test -Dgroups=benchmark -DexcludedGroups=none -Dtest=ServingBenchmark \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dserve.model=/tmp/serve-model
 * </pre>
 * Options (system properties): serve.model, serve.clients (16), serve.seconds per mode (20),
 * serve.maxRequests per mode (4000), serve.warmup requests (50), serve.workers batching threads (1); and DJL's ai.djl.pytorch.num_threads
 * (PyTorch intra-op threads), which matters on a busy machine: with one intra-op thread a second batching
 * worker (serve.workers=2) can use the second core.
 */
@Tag("benchmark")
class ServingBenchmark {
    /** Support-ticket-like texts of different lengths, as the example data the model was trained on. */
    private static final List<String> TEXTS = List.of(
            "I was charged twice for my subscription this month",
            "my parcel has not arrived and the tracking page has not changed for a week",
            "the app crashes every time I try to log in",
            "refund please",
            "Can you tell me why the invoice shows a different amount than the price on your website? I"
                    + " upgraded in the middle of the billing period and expected a prorated charge.",
            "the courier left the package at the wrong address",
            "password reset email never comes",
            "where is my order?");

    record Result(String mode, int clients, int requests, int failures, double seconds, double p50ms, double p99ms,
            long forwardPasses) {
        String row() {
            return String.format(Locale.ROOT, "| %s | %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %d |", mode, clients, requests,
                    failures, seconds, requests / seconds, p50ms, p99ms, forwardPasses);
        }
    }

    @Test
    void batchingOnAndOff() throws Exception {
        Path model = Path.of(System.getProperty("serve.model", "/tmp/serve-model"));
        int clients = Integer.getInteger("serve.clients", 16);
        int seconds = Integer.getInteger("serve.seconds", 20);
        int maxRequests = Integer.getInteger("serve.maxRequests", 4000);
        int warmup = Integer.getInteger("serve.warmup", 50);
        int workers = Integer.getInteger("serve.workers", 1);
        assertTrue(Files.isRegularFile(model.resolve("config.json")),
                model + " holds no model: train one with ./finetune4j train --output " + model + ", or set -Dserve.model");

        List<Result> results = new ArrayList<>();
        try (TextClassifier classifier = TextClassifier.load(model)) {
            for (boolean batching : new boolean[] {true, false}) {
                ServerConfig cfg = ServerConfig.defaults().withNetwork(ServerConfig.Network.defaults().withPort(0))
                        .withBatching(batching ? ServerConfig.Batching.defaults().withWorkers(workers) : ServerConfig.Batching.off());
                try (ClassificationServer server = ClassificationServer.start(classifier, model, null, cfg)) {
                    run(server, Math.min(clients, 4), warmup, 60); // JIT, thread pools, connections
                    long passesBefore = server.forwardPasses();
                    Result r = run(server, clients, maxRequests, seconds);
                    r = new Result(batching ? "batching (5 ms, 32, " + workers + (workers == 1 ? " worker)" : " workers)") : "no batching", r.clients(), r.requests(), r.failures(),
                            r.seconds(), r.p50ms(), r.p99ms(), server.forwardPasses() - passesBefore);
                    results.add(r);
                    System.out.println(r.row());
                }
            }
        }
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT,
                "model %s, %d clients, one text per request, %d CPUs visible, PyTorch intra-op threads %d%n%n",
                model.getFileName(), clients, Runtime.getRuntime().availableProcessors(), ai.djl.pytorch.jni.JniUtils.getNumThreads()));
        md.append("| mode | clients | requests | failed | seconds | requests/s | p50 ms | p99 ms | forward passes |\n");
        md.append("|---|---|---|---|---|---|---|---|---|\n");
        results.forEach(r -> md.append(r.row()).append('\n'));
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/serving-benchmark.md"), md);
        System.out.println(md);
        for (Result r : results) {
            assertEquals(0, r.failures(), r.mode() + ": every request succeeded");
        }
        assertTrue(results.get(0).forwardPasses() < results.get(0).requests(), "batching shared forward passes");
    }

    /** {@code clients} threads send requests until {@code maxRequests} are sent or {@code seconds} pass. */
    static Result run(ClassificationServer server, int clients, int maxRequests, int seconds) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = URI.create(server.url() + "/v1/classify");
        AtomicInteger budget = new AtomicInteger(maxRequests);
        AtomicInteger failures = new AtomicInteger();
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long t0 = System.nanoTime();
        try {
            List<Future<long[]>> perClient = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                perClient.add(pool.submit(() -> {
                    long[] lat = new long[maxRequests];
                    int n = 0;
                    for (int i = client; System.nanoTime() < deadline && budget.getAndDecrement() > 0; i++) {
                        String body = Http.JSON.writeValueAsString(java.util.Map.of("inputs", TEXTS.get(i % TEXTS.size())));
                        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
                        long s = System.nanoTime();
                        try {
                            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() != 200) {
                                failures.incrementAndGet();
                            }
                        } catch (java.io.IOException e) {
                            failures.incrementAndGet();
                        }
                        lat[n++] = System.nanoTime() - s;
                    }
                    return Arrays.copyOf(lat, n);
                }));
            }
            List<Long> all = new ArrayList<>();
            for (Future<long[]> f : perClient) {
                for (long l : f.get()) {
                    all.add(l);
                }
            }
            double elapsed = (System.nanoTime() - t0) / 1e9;
            long[] sorted = all.stream().mapToLong(Long::longValue).sorted().toArray();
            return new Result("", clients, sorted.length, failures.get(), elapsed, percentile(sorted, 0.50),
                    percentile(sorted, 0.99), 0);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Nearest-rank percentile, in milliseconds. */
    static double percentile(long[] sortedNanos, double q) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * sortedNanos.length);
        return sortedNanos[Math.max(0, rank - 1)] / 1e6;
    }
}
