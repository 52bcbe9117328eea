package org.finetune4j.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.io.CheckpointException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Hub's HTTP side, with the JDK's client: what a file is ({@link #metadata}, a HEAD request on its
 * {@code resolve} URL) and its bytes ({@link #fetchBlob}, a resumable GET).
 *
 * <p>As huggingface_hub does: the HEAD is sent with {@code Accept-Encoding: identity} so sizes are the
 * file's; redirects within the endpoint (a renamed repository) are followed; a redirect to another host
 * is the CDN holding an LFS file, and the file's metadata comes from the redirect itself
 * ({@code X-Repo-Commit}, {@code X-Linked-Etag}, {@code X-Linked-Size}). Redirects are followed by hand so
 * that the token goes only to the endpoint's own origin, never to the CDN.
 */
final class HubClient {
    private static final Logger LOG = LoggerFactory.getLogger(HubClient.class);
    private static final int MAX_REDIRECTS = 10;
    /** Tries per file when the connection breaks mid-transfer; each resumes where the last stopped. */
    static final int MAX_ATTEMPTS = 5;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(20);
    /** Until the response headers arrive; a body may take as long as it needs. */
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-\\d+/(\\d+|\\*)");
    private static final String USER_AGENT = "finetune4j/" + version() + "; java/" + Runtime.version().feature();

    /**
     * A file as the Hub describes it.
     *
     * @param commit the commit the revision resolved to
     * @param etag the blob's name in the cache (git sha1, or the sha256 of an LFS file)
     * @param size its size in bytes, or -1 when the Hub did not say
     * @param location where to GET the bytes (the CDN for an LFS file)
     */
    record Metadata(String commit, String etag, long size, URI location) {
    }

    /** How long a download may receive nothing before it is cancelled and resumed. */
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);

    private final HubConfig config;
    private final Duration idleTimeout;
    private final HttpClient http;

    HubClient(HubConfig config) {
        this(config, IDLE_TIMEOUT);
    }

    HubClient(HubConfig config, Duration idleTimeout) {
        this.config = config;
        this.idleTimeout = idleTimeout;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** {@code {endpoint}/{repo_id}/resolve/{revision}/{file}}, the revision encoded as one path segment. */
    URI resolveUrl(HubModelId id, String revision, String file) {
        String rev = URLEncoder.encode(revision, StandardCharsets.UTF_8).replace("+", "%20");
        return URI.create(config.endpoint() + "/" + id.repoId() + "/resolve/" + rev + "/" + file);
    }

    /**
     * What {@code file} at {@code revision} is, or empty when the Hub answers 404 for the file alone. A
     * missing repository or revision, a refused token and a network failure are errors that say what to do.
     */
    Optional<Metadata> metadata(HubModelId id, String revision, String file) {
        URI url = resolveUrl(id, revision, file);
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest request = request(url).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .header("Accept-Encoding", "identity").build();
            HttpResponse<Void> response = send(request, HttpResponse.BodyHandlers.discarding());
            int status = response.statusCode();
            if (isRedirect(status)) {
                URI target = location(response, url);
                if (sameOrigin(target, config.endpoint())) {
                    url = target;
                    continue;
                }
                return Optional.of(describe(response, target, url));
            }
            if (status == 200) {
                return Optional.of(describe(response, url, url));
            }
            if (status == 404 && !"RepoNotFound".equals(errorCode(response)) && !"RevisionNotFound".equals(errorCode(response))) {
                return Optional.empty();
            }
            throw failure(id, url, response);
        }
        throw new CheckpointException(url + ": more than " + MAX_REDIRECTS + " redirects. Check HF_ENDPOINT (now "
                + config.endpoint() + ").");
    }

    /**
     * Downloads the file {@code meta} describes into {@code blob}: the bytes go to {@code incomplete}
     * (resumed with a Range request if an earlier try left part of it), their size and, for an LFS file
     * whose etag is its sha256, their digest are checked, and only then is the file renamed into place.
     * Bytes that fail the check are deleted. The caller holds the blob's lock.
     */
    void fetchBlob(HubModelId id, String file, Metadata meta, Path incomplete, Path blob) {
        try {
            Files.createDirectories(incomplete.getParent());
            for (int attempt = 1; ; attempt++) {
                long have = Files.isRegularFile(incomplete) ? Files.size(incomplete) : 0;
                if (meta.size() >= 0 && have > meta.size()) {
                    LOG.warn("{} is larger than {} ({} bytes); downloading it again", incomplete, file, meta.size());
                    Files.delete(incomplete);
                    have = 0;
                }
                if (meta.size() >= 0 && have == meta.size()) {
                    break; // an earlier try got every byte and stopped before the check
                }
                if (attempt == 1) {
                    LOG.info("Downloading {} {} ({}){}", id, file, sizeText(meta.size()),
                            have > 0 ? ", resuming after " + sizeText(have) : "");
                }
                try {
                    transfer(id, meta.location(), incomplete, have);
                    if (meta.size() < 0 || Files.size(incomplete) >= meta.size()) {
                        break;
                    }
                    throw new IOException("the response ended after " + Files.size(incomplete) + " of " + meta.size()
                            + " bytes");
                } catch (IOException e) {
                    if (attempt >= MAX_ATTEMPTS) {
                        long kept = Files.isRegularFile(incomplete) ? Files.size(incomplete) : 0;
                        throw networkError(meta.location(), e, " after " + attempt + " tries (the " + sizeText(kept)
                                + " received are kept in " + incomplete + " and the next try"
                                + " resumes from there)");
                    }
                    LOG.warn("Downloading {} {} broke off ({}); resuming", id, file, e.getMessage());
                }
            }
            verify(file, meta, incomplete);
            AtomicFiles.moveAtomically(incomplete, blob);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + incomplete + ": " + e.getMessage(), e);
        }
    }

    /** One GET from {@code have} on, appended to {@code incomplete}; redirects followed, the token kept in-origin. */
    private void transfer(HubModelId id, URI url, Path incomplete, long have) throws IOException {
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpRequest.Builder b = request(url).GET().header("Accept-Encoding", "identity");
            if (have > 0) {
                b.header("Range", "bytes=" + have + "-");
            }
            AtomicReference<FileSink> sink = new AtomicReference<>();
            HttpResponse<Void> response = await(http.sendAsync(b.build(), info -> {
                // The bytes go to the file only for a whole file (200) or the rest asked for (206 from have).
                boolean resumed = info.statusCode() == 206 && have > 0 && startsAt(info.headers(), have);
                if (info.statusCode() == 200 || resumed) {
                    sink.set(new FileSink(incomplete, resumed));
                    return sink.get();
                }
                return HttpResponse.BodySubscribers.discarding();
            }), sink, url);
            int status = response.statusCode();
            if (isRedirect(status)) {
                url = location(response, url);
                continue;
            }
            if (sink.get() != null) {
                return;
            }
            if (status == 206) {
                throw new IOException("the server resumed at another offset than byte " + have + " (Content-Range: "
                        + response.headers().firstValue("Content-Range").orElse("none") + ")");
            }
            if (status == 416) {
                Files.deleteIfExists(incomplete); // the partial file does not fit this blob: start over
                throw new IOException("the server refused to resume (HTTP 416)");
            }
            throw failure(id, url, response);
        }
        throw new IOException("more than " + MAX_REDIRECTS + " redirects from " + url);
    }

    /**
     * Waits for a GET to finish. The JDK client has no read timeout for a body, so a transfer that
     * receives nothing for {@link #idleTimeout} is cancelled here, and resumed by the caller.
     */
    private <T> HttpResponse<T> await(CompletableFuture<HttpResponse<T>> pending, AtomicReference<FileSink> sink, URI url)
            throws IOException {
        try {
            while (true) {
                try {
                    return pending.get(Math.max(10, idleTimeout.toMillis() / 4), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    FileSink s = sink.get();
                    if (s != null && s.idleNanos() > idleTimeout.toNanos()) {
                        pending.cancel(true);
                        s.cancel();
                        throw new IOException("no data for " + (idleTimeout.toMillis() < 1000 ? idleTimeout.toMillis() + " ms"
                                : idleTimeout.toSeconds() + " s"));
                    }
                }
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            throw new CheckpointException("interrupted while downloading " + url, e);
        }
    }

    private static boolean startsAt(HttpHeaders headers, long offset) {
        Matcher m = CONTENT_RANGE.matcher(headers.firstValue("Content-Range").orElse(""));
        return m.matches() && Long.parseLong(m.group(1)) == offset;
    }

    /** Writes a response body to a file as it arrives, and remembers when bytes last came. */
    private static final class FileSink implements HttpResponse.BodySubscriber<Void> {
        private final Path file;
        private final boolean append;
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private volatile long lastData = System.nanoTime();
        private volatile Flow.Subscription subscription;
        private FileChannel channel;

        FileSink(Path file, boolean append) {
            this.file = file;
            this.append = append;
        }

        long idleNanos() {
            return System.nanoTime() - lastData;
        }

        void cancel() {
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            finish(new IOException("cancelled"));
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            try {
                channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
                s.request(1);
            } catch (IOException e) {
                s.cancel();
                finish(e);
            }
        }

        @Override
        public synchronized void onNext(List<ByteBuffer> buffers) {
            try {
                for (ByteBuffer b : buffers) {
                    while (b.hasRemaining()) {
                        channel.write(b);
                    }
                }
                lastData = System.nanoTime();
                subscription.request(1);
            } catch (IOException e) {
                subscription.cancel();
                finish(e);
            }
        }

        @Override
        public void onError(Throwable t) {
            finish(t);
        }

        @Override
        public void onComplete() {
            finish(null);
        }

        private synchronized void finish(Throwable error) {
            try {
                if (channel != null && channel.isOpen()) {
                    channel.close();
                }
            } catch (IOException e) {
                error = error == null ? e : error;
            }
            if (error == null) {
                done.complete(null);
            } else {
                done.completeExceptionally(error);
            }
        }

        @Override
        public CompletionStage<Void> getBody() {
            return done;
        }
    }

    private static void verify(String file, Metadata meta, Path incomplete) throws IOException {
        long size = Files.size(incomplete);
        String problem = null;
        if (meta.size() >= 0 && size != meta.size()) {
            problem = "it has " + size + " bytes where the Hub announced " + meta.size();
        } else if (SHA256.matcher(meta.etag()).matches()) {
            String actual = sha256(incomplete);
            if (!actual.equals(meta.etag())) {
                problem = "its sha256 is " + actual + " where the Hub's etag says " + meta.etag();
            }
        }
        if (problem != null) {
            Files.deleteIfExists(incomplete);
            throw new CheckpointException("the download of " + file + " from " + meta.location() + " is corrupt: " + problem
                    + ". It was deleted; try again (a proxy or mirror between you and the Hub may be altering files).");
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private Metadata describe(HttpResponse<?> response, URI location, URI asked) {
        HttpHeaders h = response.headers();
        String commit = h.firstValue("X-Repo-Commit").orElse(null);
        String etag = normalizeEtag(h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElse(null));
        OptionalLong size = h.firstValueAsLong("X-Linked-Size");
        if (size.isEmpty() && response.statusCode() == 200) {
            size = h.firstValueAsLong("Content-Length"); // a redirect's own length says nothing of the file
        }
        if (!HubModelId.isCommitHash(commit) || !HubCache.isSafeEtag(etag)) {
            throw new CheckpointException(asked + " answered without a usable " + (HubModelId.isCommitHash(commit)
                    ? "ETag (got " + etag + ")" : "X-Repo-Commit header (got " + commit + ")") + ", which the Hub always"
                    + " sends. Check that HF_ENDPOINT (now " + config.endpoint() + ") is the Hugging Face Hub or a full"
                    + " mirror of it, and that no proxy strips headers; or set HF_HUB_OFFLINE=1 to use the cache only.");
        }
        return new Metadata(commit, etag, size.orElse(-1), location);
    }

    /** An ETag as a blob name: without the weak marker and the quotes. */
    static String normalizeEtag(String etag) {
        if (etag == null) {
            return null;
        }
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        return e.replace("\"", "");
    }

    private HttpRequest.Builder request(URI url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(RESPONSE_TIMEOUT).header("User-Agent", USER_AGENT);
        if (config.token() != null && sameOrigin(url, config.endpoint())) {
            b.header("Authorization", "Bearer " + config.token());
        }
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(request, handler);
        } catch (IOException e) {
            throw networkError(request.uri(), e, "");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CheckpointException("interrupted while fetching " + request.uri(), e);
        }
    }

    private CheckpointException networkError(URI url, IOException e, String detail) {
        return new CheckpointException("cannot download " + url + detail + ": " + e + ". Check your network connection"
                + " and HF_ENDPOINT (now " + config.endpoint() + "), or set HF_HUB_OFFLINE=1 to use only models already"
                + " in the cache (" + config.cacheDir() + ").", e);
    }

    private CheckpointException failure(HubModelId id, URI url, HttpResponse<?> response) {
        int status = response.statusCode();
        String code = errorCode(response);
        String page = config.endpoint() + "/" + id.repoId();
        if ("GatedRepo".equals(code) || status == 401 || status == 403) {
            String tokenAdvice = config.token() == null
                    ? " set HF_TOKEN to an access token (" + config.endpoint() + "/settings/tokens) or log in with"
                            + " huggingface-cli login"
                    : " check that your token (HF_TOKEN or the huggingface-cli login file) may read it; this one was"
                            + " refused";
            return new CheckpointException(url + " answered HTTP " + status + (code == null ? "" : " (" + code + ")") + ": "
                    + id.repoId() + " is gated or private (or does not exist). If it exists, ask for access on " + page
                    + ", and" + tokenAdvice + ".");
        }
        if ("RevisionNotFound".equals(code)) {
            return new CheckpointException(url + " answered HTTP 404: " + id.repoId() + " has no revision \""
                    + id.revision() + "\". Give a branch, tag or commit hash that " + page + " shows.");
        }
        if (status == 404) {
            return noSuchModel(id, url);
        }
        return new CheckpointException(url + " answered HTTP " + status + (code == null ? "" : " (" + code + ")")
                + ". The Hub may be down or rate-limiting: try again later, or set HF_HUB_OFFLINE=1 to use the cache.");
    }

    CheckpointException noSuchModel(HubModelId id, URI url) {
        String local = id.repoId().contains("/") ? "" : "no directory \"" + id.repoId() + "\" exists here, and ";
        return new CheckpointException(local + "no such model on the Hugging Face Hub: " + id + " (" + url
                + " answered HTTP 404). Check the spelling (org/name, as on " + config.endpoint() + "), and give a local"
                + " directory's path if you meant one. A private repository also answers 404 without a token: set HF_TOKEN.");
    }

    private static String errorCode(HttpResponse<?> response) {
        return response.headers().firstValue("X-Error-Code").orElse(null);
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static URI location(HttpResponse<?> response, URI from) {
        String loc = response.headers().firstValue("Location").orElseThrow(() -> new CheckpointException(from
                + " answered HTTP " + response.statusCode() + " without a Location header."));
        return from.resolve(loc);
    }

    /** Same scheme, host and port: the rule by which Python's requests keeps the Authorization header. */
    static boolean sameOrigin(URI a, URI b) {
        return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost() != null
                && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    static String sizeText(long bytes) {
        if (bytes < 0) {
            return "size unknown";
        }
        return bytes < 1 << 20 ? String.format(Locale.ROOT, "%.1f kB", bytes / 1024.0)
                : String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024.0));
    }

    private static String version() {
        String v = HubClient.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
