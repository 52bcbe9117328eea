package org.finetune4j.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.server.ClassificationServer;
import org.finetune4j.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Serves a trained classifier over HTTP until SIGTERM or Ctrl-C, then shuts down gracefully. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"Serve a classifier over HTTP: POST /v1/classify, GET /v1/model, GET /healthz, and a page at /.",
                "Stops on SIGTERM or Ctrl-C after the requests in flight have finished."})
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ClassifierOptions model = new ClassifierOptions();

    @Mixin
    NetworkOptions network = new NetworkOptions();

    @Mixin
    LimitOptions limits = new LimitOptions();

    @Mixin
    BatchingOptions batching = new BatchingOptions();

    static final class NetworkOptions {
        @Option(names = "--host", defaultValue = ServerConfig.Network.DEFAULT_HOST,
                description = "Interface to bind; 0.0.0.0 exposes the server to the network (then set a token).")
        String host;

        @Option(names = "--port", defaultValue = "8080", description = "TCP port (0: any free port).")
        int port;

        @Option(names = "--token", defaultValue = "${env:FINETUNE4J_TOKEN}", showDefaultValue = Visibility.NEVER,
                description = "Require \"Authorization: Bearer TOKEN\" on /v1 requests. Default: the FINETUNE4J_TOKEN"
                        + " environment variable, which unlike this option does not show in the process list.")
        String token;

        @Option(names = "--drain-seconds", defaultValue = "10", description = "On shutdown, wait this long for requests in flight.")
        int drainSeconds;
    }

    static final class LimitOptions {
        @Option(names = "--max-body-bytes", defaultValue = "1048576", description = "Largest request body (413 beyond).")
        long maxBodyBytes;

        @Option(names = "--max-texts", defaultValue = "64", description = "Most texts in one request (422 beyond).")
        int maxTexts;

        @Option(names = "--max-chars", defaultValue = "10000", description = "Most characters in one text (422 beyond).")
        int maxChars;
    }

    static final class BatchingOptions {
        @Option(names = "--batch-window-ms", defaultValue = "5",
                description = "How long the batcher waits for more requests before a forward pass.")
        long windowMs;

        @Option(names = "--max-batch-size", defaultValue = "32", description = "Most texts in one forward pass.")
        int maxBatchSize;

        @Option(names = "--max-queued", defaultValue = "256", description = "Requests waiting for the model before 503.")
        int maxQueued;

        @Option(names = "--batch-workers", defaultValue = "1", description = "Batching threads sharing the queue.")
        int workers;

        @Option(names = "--no-batching", description = "Run each request's forward pass on its own thread (for benchmarks).")
        boolean off;
    }

    ServerConfig config() {
        String token = network.token == null || network.token.isEmpty() ? null : network.token;
        return new ServerConfig(
                new ServerConfig.Network(network.host, network.port, Duration.ofSeconds(network.drainSeconds)),
                new ServerConfig.Auth(token),
                new ServerConfig.Limits(limits.maxBodyBytes, limits.maxTexts, limits.maxChars),
                new ServerConfig.Batching(!batching.off, Duration.ofMillis(batching.windowMs), batching.maxBatchSize,
                        batching.maxQueued, batching.workers));
    }

    @Override
    public Integer call() throws Exception {
        ServerConfig cfg = config(); // options first: a bad --port fails before the model loads
        Path dir = model.modelDir();
        TextClassifier classifier = model.load(dir);
        ClassificationServer server;
        try {
            server = ClassificationServer.start(classifier, dir, model.adapter, cfg);
        } catch (RuntimeException e) {
            classifier.close();
            throw e;
        }
        if (!cfg.network().isLoopback() && !cfg.auth().required()) {
            System.err.println("warning: listening on " + cfg.network().host() + " without a token: anyone who can reach"
                    + " this port can use the model; set FINETUNE4J_TOKEN or --token");
        }
        System.out.println("serving " + classifier.config().architecture() + " " + classifier.labels() + " at " + server.url()
                + (cfg.batching().enabled() ? " (batching " + cfg.batching().maxBatchSize() + " texts within "
                        + cfg.batching().window().toMillis() + " ms)" : " (no batching)")
                + (cfg.auth().required() ? ", token required" : ""));
        System.out.println("page: " + server.url() + "/   stop: Ctrl-C");
        System.out.flush();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("finetune4j serve: stopping (finishing requests in flight)...");
            try {
                server.close();
            } finally {
                classifier.close();
                System.err.println("finetune4j serve: stopped");
                stopped.countDown();
            }
        }, "finetune4j-serve-shutdown"));
        stopped.await(); // the JVM exits when the shutdown hook has finished
        return 0;
    }
}
