package org.finetune4j.server;

import java.time.Duration;

/**
 * Everything the server can be told, split per concern. Each part is immutable, has a default, and is
 * validated when built; {@code ServerConfig.defaults()} is a safe server: loopback only, bounded inputs.
 *
 * @param network where to listen and how long shutdown waits
 * @param auth who may call the API
 * @param limits how big a request may be
 * @param batching how concurrent requests share forward passes
 */
public record ServerConfig(Network network, Auth auth, Limits limits, Batching batching) {
    public ServerConfig {
        if (network == null || auth == null || limits == null || batching == null) {
            throw new IllegalArgumentException("server config: network, auth, limits and batching must all be given");
        }
    }

    public static ServerConfig defaults() {
        return new ServerConfig(Network.defaults(), Auth.NONE, Limits.defaults(), Batching.defaults());
    }

    public ServerConfig withNetwork(Network n) {
        return new ServerConfig(n, auth, limits, batching);
    }

    public ServerConfig withAuth(Auth a) {
        return new ServerConfig(network, a, limits, batching);
    }

    public ServerConfig withLimits(Limits l) {
        return new ServerConfig(network, auth, l, batching);
    }

    public ServerConfig withBatching(Batching b) {
        return new ServerConfig(network, auth, limits, b);
    }

    /**
     * @param host interface to bind. Default 127.0.0.1: a model server is reachable from this machine only
     *     until someone decides otherwise (0.0.0.0), ideally together with a token.
     * @param port TCP port; 0 picks a free one (tests). Default 8080, the usual unprivileged HTTP port.
     * @param drainTimeout on shutdown, how long requests in flight may take to finish before the server
     *     stops anyway. Default 10 s: far longer than a forward pass, short enough for a container's
     *     SIGTERM grace period (30 s in Kubernetes).
     */
    public record Network(String host, int port, Duration drainTimeout) {
        public static final String DEFAULT_HOST = "127.0.0.1";
        public static final int DEFAULT_PORT = 8080;

        public Network {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("--host must name an interface, e.g. 127.0.0.1 or 0.0.0.0");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port " + port + " is not a TCP port: use 1-65535, or 0 for any free port");
            }
            if (drainTimeout == null || drainTimeout.isNegative()) {
                throw new IllegalArgumentException("the shutdown drain timeout must be zero or more, not " + drainTimeout);
            }
        }

        public static Network defaults() {
            return new Network(DEFAULT_HOST, DEFAULT_PORT, Duration.ofSeconds(10));
        }

        public Network withPort(int p) {
            return new Network(host, p, drainTimeout);
        }

        public boolean isLoopback() {
            return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1");
        }
    }

    /**
     * @param token the bearer token every /v1 request must send ({@code Authorization: Bearer TOKEN}), or
     *     null for none. Default none, which is why the default host is loopback. Visible ASCII only: it
     *     travels in an HTTP header, where a browser's fetch refuses anything beyond Latin-1 and a space
     *     or line break would be cut off (RFC 6750 section 2.1 allows even fewer characters).
     */
    public record Auth(String token) {
        public static final Auth NONE = new Auth(null);

        public Auth {
            if (token != null && (token.isEmpty() || !token.chars().allMatch(c -> c >= 0x21 && c <= 0x7e))) {
                throw new IllegalArgumentException("the token must be non-empty and made of visible ASCII characters, with no"
                        + " spaces or line breaks (it is sent in an HTTP header); set it with --token-file, --token or"
                        + " FINETUNE4J_TOKEN");
            }
        }

        public boolean required() {
            return token != null;
        }

        @Override
        public String toString() {
            return required() ? "Auth[token=(set)]" : "Auth[none]"; // never log the secret
        }
    }

    /**
     * Bounds on one request, so that no single caller can make the server allocate or compute without limit.
     *
     * @param maxBodyBytes request body size. Default 1 MiB: the largest legal request (64 texts of 10,000
     *     characters) is about 640 KB of ASCII; anything larger is a mistake or an attack.
     * @param maxTexts texts in one request. Default 64: two forward passes of the classifier's 32.
     * @param maxChars characters (Unicode code points) in one text. Default 10,000: several times what a
     *     512-token model reads, so real documents fit; the tokenizer's time is bounded.
     */
    public record Limits(long maxBodyBytes, int maxTexts, int maxChars) {
        public Limits {
            if (maxBodyBytes < 1 || maxTexts < 1 || maxChars < 1) {
                throw new IllegalArgumentException("--max-body-bytes, --max-texts and --max-chars must each be at least 1"
                        + " (got " + maxBodyBytes + ", " + maxTexts + ", " + maxChars + ")");
            }
        }

        public static Limits defaults() {
            return new Limits(1 << 20, 64, 10_000);
        }
    }

    /**
     * Server-side micro-batching: requests that arrive together share one forward pass.
     *
     * @param enabled queue requests for the batching worker; false runs each request's forward pass on its
     *     own HTTP thread (the baseline the benchmark compares with). Default true.
     * @param window how long the worker waits for more texts after the first one arrives. Default 5 ms:
     *     small next to a forward pass (tens of ms for MiniLM on a CPU), long enough to gather a burst.
     * @param maxBatchSize most texts in one forward pass. Default 32, the classifier's own batch size, so a
     *     gathered batch is exactly one pass.
     * @param maxQueued requests waiting for the worker before new ones are refused with 503. Default 256:
     *     a few seconds of work; beyond that a caller is better told to retry than left waiting.
     * @param workers batching threads, each gathering and running its own batches from the shared queue.
     *     Default 1: one batch at a time gets all of PyTorch's intra-op threads. On a CPU with many cores,
     *     or a busy one, several workers with fewer intra-op threads each can do better (ServingBenchmark
     *     measures both: -Dserve.workers, -Dai.djl.pytorch.num_threads).
     */
    public record Batching(boolean enabled, Duration window, int maxBatchSize, int maxQueued, int workers) {
        public Batching {
            if (window == null || window.isNegative()) {
                throw new IllegalArgumentException("--batch-window-ms must be zero or more, not " + window);
            }
            if (maxBatchSize < 1) {
                throw new IllegalArgumentException("--max-batch-size must be at least 1, not " + maxBatchSize);
            }
            if (maxQueued < 1) {
                throw new IllegalArgumentException("--max-queued must be at least 1, not " + maxQueued);
            }
            if (workers < 1) {
                throw new IllegalArgumentException("--batch-workers must be at least 1, not " + workers);
            }
        }

        public static Batching defaults() {
            return new Batching(true, Duration.ofMillis(5), 32, 256, 1);
        }

        public static Batching off() {
            Batching d = defaults();
            return new Batching(false, d.window, d.maxBatchSize, d.maxQueued, d.workers);
        }

        public Batching withWorkers(int n) {
            return new Batching(enabled, window, maxBatchSize, maxQueued, n);
        }
    }
}
