package org.finetune4j.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for the Hugging Face Hub on loopback, answering {@code resolve} URLs as the Hub does: small
 * files directly with {@code X-Repo-Commit} and their git-sha1 {@code ETag}; LFS files with a 302 to a
 * separate "CDN" server (another port, so another origin) carrying {@code X-Linked-Etag} (the sha256) and
 * {@code X-Linked-Size}; 404 with {@code X-Error-Code}; 401 for a private repository without its token;
 * 307 for a renamed repository; HTTP Range requests. It records every request, and can break off or
 * corrupt a transfer on demand.
 */
final class FakeHub implements AutoCloseable {
    /** A request as the server saw it. */
    record Seen(String server, String method, String path, String authorization, String range) {
    }

    /** A repository at one commit. */
    static final class Repo {
        final String id;
        final String commit;
        final Map<String, byte[]> files = new LinkedHashMap<>();
        final Set<String> lfs = new HashSet<>();
        String token; // when set, the repository is private: other callers get 401
        boolean withoutLinkedSize; // LFS redirects carry no X-Linked-Size, only their own Content-Length

        Repo(String id, String commit) {
            this.id = id;
            this.commit = commit;
        }

        Repo file(String name, byte[] bytes) {
            files.put(name, bytes);
            return this;
        }

        Repo lfsFile(String name, byte[] bytes) {
            lfs.add(name);
            return file(name, bytes);
        }
    }

    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    private final HttpServer hub;
    private final HttpServer cdn;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    private final List<Seen> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    /** sha256 → how many bytes the next transfers send before breaking off, one entry per transfer. */
    private final Map<String, List<Integer>> breakOff = new ConcurrentHashMap<>();
    private final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> stall = new ConcurrentHashMap<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    FakeHub() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
        hub = HttpServer.create(loopback, 0);
        cdn = HttpServer.create(loopback, 0);
        hub.createContext("/", this::serveHub);
        cdn.createContext("/", this::serveCdn);
        hub.setExecutor(threads); // a stalled transfer must not hold up the next request
        cdn.setExecutor(threads);
        hub.start();
        cdn.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    Repo repo(String id, String commit) {
        Repo r = new Repo(id, commit);
        repos.put(id, r);
        return r;
    }

    /** {@code oldId} now answers with a relative 307 to {@code newId}, as the Hub does for a renamed repo. */
    void rename(String oldId, String newId) {
        renamed.put(oldId, newId);
    }

    /** The next transfers of {@code bytes} stop after these many bytes each, then the connection closes. */
    void breakOff(byte[] bytes, Integer... after) {
        breakOff.put(sha256(bytes), new ArrayList<>(Arrays.asList(after)));
    }

    /** Broken-off transfers of {@code bytes} first go silent for {@code millis}, with the connection open. */
    void stall(byte[] bytes, long millis) {
        stall.put(sha256(bytes), millis);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Transfers of {@code bytes} send one byte altered (same length). */
    void corrupt(byte[] bytes) {
        corrupt.add(sha256(bytes));
    }

    List<Seen> requests() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    List<Seen> requests(String server) {
        return requests().stream().filter(s -> s.server().equals(server)).toList();
    }

    private void serveHub(HttpExchange ex) throws IOException {
        try {
            record(ex, "hub");
            // /{org}/{name}/resolve/{revision}/{file...}, the revision one encoded segment; a legacy
            // single-name id has no {org}/ part: /{name}/resolve/{revision}/{file...}
            String raw = ex.getRequestURI().getRawPath();
            String[] legacy = raw.split("/", 5);
            boolean single = legacy.length == 5 && legacy[2].equals("resolve");
            String[] parts = single ? ("/" + raw).split("/", 6) : raw.split("/", 6);
            if (parts.length < 6 || !parts[3].equals("resolve")) {
                send(ex, 404, Map.of("X-Error-Code", "RepoNotFound"));
                return;
            }
            String id = single ? parts[2] : parts[1] + "/" + parts[2];
            String revision = URLDecoder.decode(parts[4], StandardCharsets.UTF_8);
            String file = URLDecoder.decode(parts[5], StandardCharsets.UTF_8);
            if (renamed.containsKey(id)) {
                send(ex, 307, Map.of("Location", "/" + renamed.get(id) + "/resolve/" + parts[4] + "/" + parts[5]));
                return;
            }
            Repo repo = repos.get(id);
            if (repo == null) {
                send(ex, 404, Map.of("X-Error-Code", "RepoNotFound"));
                return;
            }
            if (repo.token != null && !("Bearer " + repo.token).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                send(ex, 401, Map.of("X-Error-Code", "GatedRepo"));
                return;
            }
            if (!revision.equals("main") && !revision.equals(repo.commit)) {
                send(ex, 404, Map.of("X-Error-Code", "RevisionNotFound"));
                return;
            }
            byte[] bytes = repo.files.get(file);
            if (bytes == null) {
                send(ex, 404, Map.of("X-Error-Code", "EntryNotFound", "X-Repo-Commit", repo.commit));
                return;
            }
            if (repo.lfs.contains(file)) {
                String sha = sha256(bytes);
                if (repo.withoutLinkedSize) {
                    ex.getResponseHeaders().set("Content-Length", "5");
                    send(ex, 302, Map.of("X-Repo-Commit", repo.commit, "X-Linked-Etag", "\"" + sha + "\"", "Location",
                            "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/" + sha));
                    return;
                }
                send(ex, 302, Map.of("X-Repo-Commit", repo.commit, "X-Linked-Etag", "\"" + sha + "\"",
                        "X-Linked-Size", Long.toString(bytes.length), "ETag", "\"" + gitSha1(("pointer " + sha).getBytes(
                                StandardCharsets.UTF_8)) + "\"", "Location", "http://127.0.0.1:" + cdn.getAddress().getPort()
                                + "/blobs/" + sha + "?signature=abc"));
                return;
            }
            ex.getResponseHeaders().set("X-Repo-Commit", repo.commit);
            ex.getResponseHeaders().set("ETag", "W/\"" + gitSha1(bytes) + "\"");
            serveBytes(ex, bytes);
        } finally {
            ex.close();
        }
    }

    private void serveCdn(HttpExchange ex) throws IOException {
        try {
            record(ex, "cdn");
            String sha = ex.getRequestURI().getPath().replace("/blobs/", "");
            byte[] bytes = repos.values().stream().flatMap(r -> r.files.values().stream())
                    .filter(b -> sha256(b).equals(sha)).findFirst().orElse(null);
            if (bytes == null) {
                send(ex, 404, Map.of());
                return;
            }
            serveBytes(ex, bytes);
        } finally {
            ex.close();
        }
    }

    /** 200 or, for "Range: bytes=N-", 206 from N on; may break off or corrupt as asked. */
    private void serveBytes(HttpExchange ex, byte[] bytes) throws IOException {
        int from = 0;
        Matcher m = RANGE.matcher(String.valueOf(ex.getRequestHeaders().getFirst("Range")));
        if (m.matches() && ex.getRequestMethod().equals("GET")) {
            from = Integer.parseInt(m.group(1));
            if (from >= bytes.length) {
                send(ex, 416, Map.of("Content-Range", "bytes */" + bytes.length));
                return;
            }
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (bytes.length - 1) + "/" + bytes.length);
        }
        byte[] body = Arrays.copyOfRange(bytes, from, bytes.length);
        int status = from > 0 ? 206 : 200;
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        String sha = sha256(bytes);
        if (corrupt.contains(sha)) {
            body[body.length / 2] ^= 1;
        }
        List<Integer> cuts = breakOff.get(sha);
        Integer cut = cuts == null || cuts.isEmpty() ? null : cuts.remove(0);
        ex.sendResponseHeaders(status, body.length);
        OutputStream out = ex.getResponseBody();
        if (cut != null) {
            out.write(body, 0, Math.min(cut, body.length));
            out.flush();
            Long pause = stall.get(sha);
            if (pause != null) {
                sleep(pause);
            }
            // A handler that throws makes the JDK server drop the connection, short of Content-Length.
            throw new IOException("breaking off after " + cut + " bytes, as the test asked");
        }
        out.write(body);
    }

    private void record(HttpExchange ex, String server) {
        seen.add(new Seen(server, ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
                ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Range")));
    }

    private static void send(HttpExchange ex, int status, Map<String, String> headers) throws IOException {
        headers.forEach(ex.getResponseHeaders()::set);
        ex.sendResponseHeaders(status, -1);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The git blob id the Hub uses as the ETag of a small file. */
    static String gitSha1(byte[] bytes) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(("blob " + bytes.length + "\0").getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        threads.shutdownNow();
    }
}
