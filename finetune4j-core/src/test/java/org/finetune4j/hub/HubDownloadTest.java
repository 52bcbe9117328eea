package org.finetune4j.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.finetune4j.io.CheckpointException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads from a loopback stand-in for the Hub ({@link FakeHub}); nothing here reaches the network. */
class HubDownloadTest {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final byte[] CONFIG = "{\"model_type\": \"bert\"}".getBytes(StandardCharsets.UTF_8);
    static final byte[] TOKENIZER = "{\"version\": \"1.0\"}".getBytes(StandardCharsets.UTF_8);
    static final byte[] WEIGHTS = randomBytes(300_000, 1);

    @TempDir
    Path cacheDir;

    HubConfig config(FakeHub hub) {
        return new HubConfig(hub.endpoint(), cacheDir, null, false);
    }

    /** acme/tiny: config.json and tokenizer.json inline, model.safetensors through the CDN, no vocab.txt. */
    static FakeHub.Repo tiny(FakeHub hub) {
        return hub.repo("acme/tiny", COMMIT).file("config.json", CONFIG).file("tokenizer.json", TOKENIZER)
                .lfsFile("model.safetensors", WEIGHTS);
    }

    Path repoDir() {
        return cacheDir.resolve("models--acme--tiny");
    }

    @Test
    void downloadsIntoTheHuggingFaceCacheLayout() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub);
            Path snapshot = HubModels.download("acme/tiny", config(hub));

            assertEquals(repoDir().resolve("snapshots").resolve(COMMIT), snapshot);
            assertEquals(COMMIT, Files.readString(repoDir().resolve("refs/main")));
            String weightsEtag = FakeHub.sha256(WEIGHTS);
            String configEtag = FakeHub.gitSha1(CONFIG);
            assertTrue(Files.isSymbolicLink(snapshot.resolve("model.safetensors")));
            assertEquals(Path.of("../../blobs/" + weightsEtag), Files.readSymbolicLink(snapshot.resolve("model.safetensors")));
            assertEquals(Path.of("../../blobs/" + configEtag), Files.readSymbolicLink(snapshot.resolve("config.json")));
            assertArrayEquals(WEIGHTS, Files.readAllBytes(repoDir().resolve("blobs").resolve(weightsEtag)));
            assertArrayEquals(CONFIG, Files.readAllBytes(snapshot.resolve("config.json")));
            assertArrayEquals(TOKENIZER, Files.readAllBytes(snapshot.resolve("tokenizer.json")));
            // the files the repository lacks are remembered, as huggingface_hub does
            assertTrue(Files.exists(repoDir().resolve(".no_exist").resolve(COMMIT).resolve("vocab.txt")));
            assertFalse(Files.exists(snapshot.resolve("vocab.txt")));
            try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
                assertEquals(List.of(), blobs.filter(p -> p.toString().endsWith(".incomplete")).toList());
            }
            // after config.json, every file is asked for at the commit it named, so all come from one commit
            assertTrue(hub.requests("hub").stream().skip(2).allMatch(s -> s.path().contains("/resolve/" + COMMIT + "/")),
                    hub.requests("hub").toString());
        }
    }

    @Test
    void secondResolveUsesTheCacheWithoutARequest() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub);
            Path first = HubModels.download("acme/tiny", config(hub));
            int requests = hub.requests().size();
            assertTrue(requests > 0);
            assertEquals(first, HubModels.download("acme/tiny", config(hub)));
            assertEquals(first, HubModels.download("acme/tiny@" + COMMIT, config(hub)));
            assertEquals(requests, hub.requests().size(), "the complete snapshot must be used without asking the Hub");
        }
    }

    @Test
    void offlineUsesOnlyTheCacheAndSaysWhatIsMissing() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub);
            HubConfig offline = config(hub).withOffline(true);
            CheckpointException never = assertThrows(CheckpointException.class, () -> HubModels.download("acme/tiny", offline));
            assertTrue(never.getMessage().contains("HF_HUB_OFFLINE"), never.getMessage());
            assertTrue(never.getMessage().contains(repoDir().resolve("refs/main").toString()), never.getMessage());
            CheckpointException noCommit = assertThrows(CheckpointException.class,
                    () -> HubModels.download("acme/tiny@" + COMMIT, offline));
            assertTrue(noCommit.getMessage().contains(repoDir().resolve("snapshots").resolve(COMMIT).toString()));
            assertEquals(0, hub.requests().size());

            Path snapshot = HubModels.download("acme/tiny", config(hub));
            int requests = hub.requests().size();
            assertEquals(snapshot, HubModels.download("acme/tiny", offline));
            assertEquals(snapshot, HubModels.download("acme/tiny@" + COMMIT, offline));

            // a blob lost from the cache leaves a dangling link: offline names the missing file
            Files.delete(repoDir().resolve("blobs").resolve(FakeHub.sha256(WEIGHTS)));
            CheckpointException lacks = assertThrows(CheckpointException.class, () -> HubModels.download("acme/tiny", offline));
            assertTrue(lacks.getMessage().contains("lacks model.safetensors"), lacks.getMessage());
            assertEquals(requests, hub.requests().size(), "offline makes no request");

            // online, only the lost file is fetched again
            assertEquals(snapshot, HubModels.download("acme/tiny", config(hub)));
            assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.resolve("model.safetensors")));
            assertEquals(2, hub.requests("cdn").size(), "one fetch, then one more for the lost blob");
        }
    }

    @Test
    void resumesAPartialFileLeftByAnEarlierRun() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub);
            Path incomplete = repoDir().resolve("blobs").resolve(FakeHub.sha256(WEIGHTS) + ".incomplete");
            Files.createDirectories(incomplete.getParent());
            Files.write(incomplete, java.util.Arrays.copyOf(WEIGHTS, 123_456));

            Path snapshot = HubModels.download("acme/tiny", config(hub));

            List<FakeHub.Seen> cdn = hub.requests("cdn");
            assertEquals(1, cdn.size(), cdn.toString());
            assertEquals("bytes=123456-", cdn.get(0).range());
            assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.resolve("model.safetensors")));
            assertFalse(Files.exists(incomplete));
        }
    }

    @Test
    void anInterruptedTransferIsResumedWithARange() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub);
            hub.breakOff(WEIGHTS, 100_000, 50_000);

            Path snapshot = HubModels.download("acme/tiny", config(hub));

            List<FakeHub.Seen> cdn = hub.requests("cdn");
            assertEquals(3, cdn.size(), cdn.toString());
            assertNull(cdn.get(0).range());
            assertEquals("bytes=100000-", cdn.get(1).range());
            assertEquals("bytes=150000-", cdn.get(2).range());
            assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        }
    }

    @Test
    void aStalledTransferIsCancelledAndResumed() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub);
            hub.breakOff(WEIGHTS, 70_000);
            hub.stall(WEIGHTS, 5_000);
            long start = System.nanoTime();

            Path snapshot = HubModels.download(HubModelId.parse("acme/tiny"), config(hub), java.time.Duration.ofMillis(300));

            assertTrue(System.nanoTime() - start < 4_000_000_000L, "the idle transfer must be cancelled, not waited out");
            List<FakeHub.Seen> cdn = hub.requests("cdn");
            assertEquals(2, cdn.size(), cdn.toString());
            assertEquals("bytes=70000-", cdn.get(1).range());
            assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        }
    }

    @Test
    void aCorruptDownloadIsNotKeptInPlace() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub);
            hub.corrupt(WEIGHTS);
            CheckpointException e = assertThrows(CheckpointException.class, () -> HubModels.download("acme/tiny", config(hub)));
            assertTrue(e.getMessage().contains("sha256"), e.getMessage());
            assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
            String etag = FakeHub.sha256(WEIGHTS);
            assertFalse(Files.exists(repoDir().resolve("blobs").resolve(etag)));
            assertFalse(Files.exists(repoDir().resolve("blobs").resolve(etag + ".incomplete")));
            assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(COMMIT).resolve("model.safetensors"),
                    java.nio.file.LinkOption.NOFOLLOW_LINKS));
            assertFalse(Files.exists(repoDir().resolve("refs/main")), "an incomplete snapshot is not published");
        }
    }

    @Test
    void aTransferThatKeepsBreakingOffFailsAndKeepsOnlyThePartialFile() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub);
            Integer[] cuts = new Integer[HubClient.MAX_ATTEMPTS];
            java.util.Arrays.fill(cuts, 10_000);
            hub.breakOff(WEIGHTS, cuts);
            CheckpointException e = assertThrows(CheckpointException.class, () -> HubModels.download("acme/tiny", config(hub)));
            assertTrue(e.getMessage().contains("/blobs/" + FakeHub.sha256(WEIGHTS)), e.getMessage());
            assertTrue(e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
            String etag = FakeHub.sha256(WEIGHTS);
            assertFalse(Files.exists(repoDir().resolve("blobs").resolve(etag)));
            assertEquals(HubClient.MAX_ATTEMPTS * 10_000L, Files.size(repoDir().resolve("blobs").resolve(etag + ".incomplete")));
            assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(COMMIT).resolve("model.safetensors"),
                    java.nio.file.LinkOption.NOFOLLOW_LINKS));

            // the next run resumes from there and finishes
            Path snapshot = HubModels.download("acme/tiny", config(hub));
            assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.resolve("model.safetensors")));
            assertEquals("bytes=" + HubClient.MAX_ATTEMPTS * 10_000L + "-", hub.requests("cdn").get(HubClient.MAX_ATTEMPTS).range());
        }
    }

    @Test
    void aRedirectWithoutALinkedSizeIsCheckedByItsSha256Alone() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub).withoutLinkedSize = true;
            Path snapshot = HubModels.download("acme/tiny", config(hub));
            assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.resolve("model.safetensors")));
        }
    }

    @Test
    void theTokenGoesToTheHubButNotToTheCdn() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub).token = "hf_secret";
            hub.rename("acme/old-tiny", "acme/tiny");

            CheckpointException refused = assertThrows(CheckpointException.class,
                    () -> HubModels.download("acme/tiny", config(hub)));
            assertTrue(refused.getMessage().contains("gated or private"), refused.getMessage());
            assertTrue(refused.getMessage().contains("HF_TOKEN"), refused.getMessage());
            CheckpointException wrong = assertThrows(CheckpointException.class,
                    () -> HubModels.download("acme/tiny", config(hub).withToken("hf_wrong")));
            assertTrue(wrong.getMessage().contains("was refused"), wrong.getMessage());

            int before = hub.requests().size();
            Path snapshot = HubModels.download("acme/old-tiny", config(hub).withToken("hf_secret"));
            assertArrayEquals(WEIGHTS, Files.readAllBytes(snapshot.resolve("model.safetensors")));
            List<FakeHub.Seen> after = hub.requests().subList(before, hub.requests().size());
            assertTrue(after.stream().anyMatch(s -> s.path().startsWith("/acme/old-tiny/")), "the rename was followed");
            assertTrue(after.stream().filter(s -> s.server().equals("hub")).allMatch(s -> "Bearer hf_secret".equals(s.authorization())),
                    after.toString());
            List<FakeHub.Seen> cdn = after.stream().filter(s -> s.server().equals("cdn")).toList();
            assertFalse(cdn.isEmpty());
            assertTrue(cdn.stream().allMatch(s -> s.authorization() == null), "the token must not leave the Hub's origin");
        }
    }

    @Test
    void shardedWeightsFetchEveryShardTheIndexNames() throws Exception {
        byte[] shard1 = randomBytes(20_000, 2);
        byte[] shard2 = randomBytes(30_000, 3);
        byte[] index = ("{\"metadata\": {\"total_size\": 50000}, \"weight_map\": {\"a.weight\": \"model-00001-of-00002.safetensors\","
                + " \"b.weight\": \"model-00002-of-00002.safetensors\", \"c.weight\": \"model-00002-of-00002.safetensors\"}}")
                .getBytes(StandardCharsets.UTF_8);
        try (FakeHub hub = new FakeHub()) {
            hub.repo("acme/tiny", COMMIT).file("config.json", CONFIG).file("model.safetensors.index.json", index)
                    .lfsFile("model-00001-of-00002.safetensors", shard1).lfsFile("model-00002-of-00002.safetensors", shard2);
            Path snapshot = HubModels.download("acme/tiny", config(hub));
            assertArrayEquals(shard1, Files.readAllBytes(snapshot.resolve("model-00001-of-00002.safetensors")));
            assertArrayEquals(shard2, Files.readAllBytes(snapshot.resolve("model-00002-of-00002.safetensors")));
            assertTrue(Files.exists(repoDir().resolve(".no_exist").resolve(COMMIT).resolve("model.safetensors")));
            int requests = hub.requests().size();
            assertEquals(snapshot, HubModels.download("acme/tiny", config(hub)));
            assertEquals(requests, hub.requests().size());
        }
    }

    @Test
    void anIndexNamingAShardOutsideTheSnapshotIsRefused() throws Exception {
        byte[] index = "{\"weight_map\": {\"a.weight\": \"../../../../evil.safetensors\"}}".getBytes(StandardCharsets.UTF_8);
        try (FakeHub hub = new FakeHub()) {
            hub.repo("acme/tiny", COMMIT).file("config.json", CONFIG).file("model.safetensors.index.json", index);
            CheckpointException e = assertThrows(CheckpointException.class, () -> HubModels.download("acme/tiny", config(hub)));
            assertTrue(e.getMessage().contains("not a safe file name"), e.getMessage());
            assertTrue(hub.requests().stream().noneMatch(s -> s.path().contains("evil")));
            assertFalse(Files.exists(cacheDir.getParent().resolve("evil.safetensors")));
        }
    }

    @Test
    void repoIdsAndRevisionsThatWouldLeaveTheCacheAreRejected() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            for (String bad : List.of("../acme", "acme/..", "acme/../tiny", "/etc/passwd", "acme\\tiny", "acme//tiny",
                    "acme/tiny/", "acme/tiny/extra", "acme--x/tiny", "acme/.hidden", "acme/tiny.git", "", "-tiny",
                    "acme/ti ny", "acme/tïny", "acme/tiny@", "acme/tiny@..", "acme/tiny@../../x", "acme/tiny@/abs",
                    "acme/tiny@a//b", "acme/tiny@a\\b", "acme/tiny@refs/../../x", "acme/tiny@.git", "acme/tiny@a@b")) {
                assertThrows(IllegalArgumentException.class, () -> HubModels.download(bad, config(hub)), bad);
                assertTrue(HubModelId.problem(bad) != null, bad);
            }
            assertEquals(0, hub.requests().size());
            try (Stream<Path> s = Files.list(cacheDir)) {
                assertEquals(0, s.count());
            }
        }
        for (String good : List.of("acme/tiny", "bert-base-uncased", "bert-base-uncased@main", "BAAI/bge-small-en-v1.5@v1.0", "acme/tiny@refs/pr/1", "acme/tiny@" + COMMIT)) {
            assertNull(HubModelId.problem(good), good);
        }
        assertEquals(new HubModelId("acme/tiny", "main"), HubModelId.parse("acme/tiny"));
        assertEquals(new HubModelId("BAAI/bge-small-en-v1.5", "v1.0"), HubModelId.parse("BAAI/bge-small-en-v1.5@v1.0"));
        assertEquals("refs/pr/1", HubModelId.parse("acme/tiny@refs/pr/1").revision());
        assertEquals("models--BAAI--bge-small-en-v1.5", HubModelId.parse("BAAI/bge-small-en-v1.5").folderName());
        assertEquals("models--bert-base-uncased", HubModelId.parse("bert-base-uncased").folderName());
    }

    /**
     * The seed notebooks' ids, bert-base-uncased and distilbert-base-uncased, are legacy single-name ids:
     * the Hub answers them with a relative 307 to the current name (google-bert/...), and huggingface_hub
     * caches them under the name as typed (models--bert-base-uncased).
     */
    @Test
    void aLegacySingleNameIdFollowsTheHubsRedirect() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            hub.repo("google-bert/bert-base-uncased", COMMIT).file("config.json", CONFIG).lfsFile("model.safetensors", WEIGHTS)
                    .file("tokenizer.json", TOKENIZER);
            hub.rename("bert-base-uncased", "google-bert/bert-base-uncased");

            Path dir = HubModels.download("bert-base-uncased", config(hub));

            assertEquals(cacheDir.resolve("models--bert-base-uncased/snapshots/" + COMMIT), dir);
            assertArrayEquals(WEIGHTS, Files.readAllBytes(dir.resolve("model.safetensors")));
            assertTrue(hub.requests("hub").stream().anyMatch(r -> r.path().startsWith("/bert-base-uncased/resolve/main/")));
            assertTrue(hub.requests("hub").stream().anyMatch(
                    r -> r.path().startsWith("/google-bert/bert-base-uncased/resolve/main/")));

            CheckpointException none = assertThrows(CheckpointException.class,
                    () -> HubModels.download("bert-base-uncasd", config(hub)));
            assertTrue(none.getMessage().startsWith("no directory \"bert-base-uncasd\" exists here, and no such model on the"
                    + " Hugging Face Hub"), none.getMessage());
        }
    }

    @Test
    void aServerEtagThatIsNotAPlainNameIsRefused() {
        assertFalse(HubCache.isSafeEtag("../../x"));
        assertFalse(HubCache.isSafeEtag("a/b"));
        assertFalse(HubCache.isSafeEtag(".hidden"));
        assertTrue(HubCache.isSafeEtag(FakeHub.sha256(WEIGHTS)));
        assertEquals("abc", HubClient.normalizeEtag("W/\"abc\""));
    }

    @Test
    void errorsSayWhatIsWrongAndWhatToDo() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub);
            hub.repo("acme/pickled", COMMIT).file("config.json", CONFIG).lfsFile("pytorch_model.bin", WEIGHTS);
            hub.repo("acme/onnx-only", COMMIT).file("config.json", CONFIG).lfsFile("model.onnx", WEIGHTS);

            CheckpointException missing = assertThrows(CheckpointException.class,
                    () -> HubModels.download("acme/nope", config(hub)));
            assertTrue(missing.getMessage().startsWith("no such model on the Hugging Face Hub: acme/nope"), missing.getMessage());

            CheckpointException revision = assertThrows(CheckpointException.class,
                    () -> HubModels.download("acme/tiny@v9", config(hub)));
            assertTrue(revision.getMessage().contains("has no revision \"v9\""), revision.getMessage());

            CheckpointException pickled = assertThrows(CheckpointException.class,
                    () -> HubModels.download("acme/pickled", config(hub)));
            assertTrue(pickled.getMessage().contains("pytorch_model.bin"), pickled.getMessage());
            assertTrue(pickled.getMessage().contains("safe_serialization=True"), pickled.getMessage());

            CheckpointException onnx = assertThrows(CheckpointException.class,
                    () -> HubModels.download("acme/onnx-only", config(hub)));
            assertTrue(onnx.getMessage().contains("no model.safetensors"), onnx.getMessage());
        }

        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            closedPort = s.getLocalPort();
        }
        HubConfig unreachable = new HubConfig(URI.create("http://127.0.0.1:" + closedPort), cacheDir, null, false);
        CheckpointException down = assertThrows(CheckpointException.class, () -> HubModels.download("acme/tiny", unreachable));
        assertTrue(down.getMessage().contains("http://127.0.0.1:" + closedPort + "/acme/tiny/resolve/main/config.json"),
                down.getMessage());
        assertTrue(down.getMessage().contains("HF_ENDPOINT"), down.getMessage());
        assertTrue(down.getMessage().contains("HF_HUB_OFFLINE=1"), down.getMessage());
    }

    @Test
    void twoThreadsFetchingTheSameModelGetOneIntactCopy() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            tiny(hub);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                var a = pool.submit(() -> HubModels.download("acme/tiny", config(hub)));
                var b = pool.submit(() -> HubModels.download("acme/tiny", config(hub)));
                assertEquals(a.get(), b.get());
                assertArrayEquals(WEIGHTS, Files.readAllBytes(a.get().resolve("model.safetensors")));
            } finally {
                pool.shutdownNow();
            }
            assertEquals(1, hub.requests("cdn").size(), "the second waits for the first's blob instead of fetching it");
        }
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
