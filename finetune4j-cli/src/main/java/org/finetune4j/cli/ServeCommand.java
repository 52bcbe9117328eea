package org.finetune4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
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

        @Option(names = "--token", showDefaultValue = Visibility.NEVER,
                description = "Require \"Authorization: Bearer TOKEN\" on /v1 requests (the page at / asks for it)."
                        + " Anyone on this machine can read it in the process list: prefer --token-file or the "
                        + TOKEN_ENV + " environment variable, which is used when neither option is given.")
        String token;

        @Option(names = "--token-file", paramLabel = "PATH",
                description = "Read the token from the first line of this file, which keeps it out of the process list."
                        + " Make it readable by you only (chmod 600 PATH).")
        Path tokenFile;

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

    static final String TOKEN_ENV = "FINETUNE4J_TOKEN";

    ServerConfig config() {
        return new ServerConfig(
                new ServerConfig.Network(network.host, network.port, Duration.ofSeconds(network.drainSeconds)),
                auth(System.getenv(TOKEN_ENV), System.err),
                new ServerConfig.Limits(limits.maxBodyBytes, limits.maxTexts, limits.maxChars),
                new ServerConfig.Batching(!batching.off, Duration.ofMillis(batching.windowMs), batching.maxBatchSize,
                        batching.maxQueued, batching.workers));
    }

    /**
     * The token from --token, --token-file or else the environment variable {@code envToken}; an option
     * given on the command line wins over the environment, as --token always has. Warnings about the
     * token file go to {@code warnings}.
     */
    ServerConfig.Auth auth(String envToken, PrintStream warnings) {
        if (network.token != null && network.tokenFile != null) {
            throw new UserError("--token and --token-file both give the token: keep only --token-file, which keeps the"
                    + " token out of the process list");
        }
        if (network.tokenFile != null) {
            String token = readTokenFile(network.tokenFile, warnings);
            try {
                return new ServerConfig.Auth(token);
            } catch (IllegalArgumentException e) {
                throw new UserError("--token-file " + network.tokenFile + ": " + e.getMessage());
            }
        }
        String token = network.token != null ? network.token : envToken;
        return new ServerConfig.Auth(token == null || token.isEmpty() ? null : token);
    }

    /**
     * The first line of {@code file}, stripped of surrounding white space (and of the byte-order mark
     * some Windows editors write first). Refuses a missing, unreadable or empty file; warns, as ssh does
     * for a private key, when group or others may read it, but goes on.
     */
    static String readTokenFile(Path file, PrintStream warnings) {
        String where = "--token-file " + file;
        String fix = "; write the token on its first line (e.g. umask 077; printf '%s\\n' \"$TOKEN\" > " + file + ")";
        if (Files.isDirectory(file)) {
            throw new UserError(where + " is a directory: give the path of the file that holds the token");
        }
        String line;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            line = r.readLine();
        } catch (NoSuchFileException e) {
            throw new UserError(where + " does not exist" + fix);
        } catch (AccessDeniedException e) {
            throw new UserError(where + " cannot be read: permission denied; make it readable by the user who runs"
                    + " serve (chown that user, chmod 600)");
        } catch (CharacterCodingException e) {
            throw new UserError(where + " is not UTF-8 text" + fix);
        } catch (IOException e) {
            throw new UserError(where + " cannot be read (" + e.getMessage() + ")" + fix);
        }
        String token = line == null ? "" : (line.startsWith("\uFEFF") ? line.substring(1) : line).strip();
        if (token.isEmpty()) {
            throw new UserError(where + (line == null ? " is empty" : " has an empty first line") + fix);
        }
        warnIfOthersCanRead(file, warnings);
        return token;
    }

    /** ssh's rule for private keys, for the token: only its owner should read it. Silent where POSIX permissions do not exist. */
    private static void warnIfOthersCanRead(Path file, PrintStream warnings) {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException | IOException e) {
            return; // Windows: access is by ACL, which this check does not read
        }
        boolean group = perms.contains(PosixFilePermission.GROUP_READ);
        boolean others = perms.contains(PosixFilePermission.OTHERS_READ);
        if (group || others) {
            warnings.println("warning: --token-file " + file + " is readable by " + (group && others ? "group and others"
                    : group ? "its group" : "others") + " (permissions " + PosixFilePermissions.toString(perms)
                    + "): whoever can read it can use this server; run chmod 600 " + file);
        }
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
                    + " this port can use the model; give a token with --token-file or FINETUNE4J_TOKEN");
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
