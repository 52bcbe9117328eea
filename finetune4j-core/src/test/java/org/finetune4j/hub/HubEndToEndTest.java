package org.finetune4j.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.finetune4j.api.ModelLocator;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.WeightFiles;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny BERT checkpoint served by the loopback Hub, downloaded through ModelLocator and loaded. */
class HubEndToEndTest {
    static final String COMMIT = "fedcba9876543210fedcba9876543210fedcba98";

    @TempDir
    Path work;

    @Test
    void aShardedTinyBertFromTheHubLoadsWithTheModelLoader() throws Exception {
        Path saved = work.resolve("saved");
        Path cache = work.resolve("cache");
        try (NDManager manager = NDManager.newBaseManager()) {
            try (TransformerModel original = TransformerModel.random(ModelConfig.encoderOnly(TinyModels.bert()), manager, 5)) {
                original.save(saved, 2_000_000); // the 3.9 MB word embeddings alone in one shard: two shards
                TinyModels.writeTokenizer(saved);
                List<String> shards;
                try (Stream<Path> s = Files.list(saved)) {
                    shards = s.map(p -> p.getFileName().toString()).filter(n -> n.matches("model-\\d+-of-\\d+\\.safetensors"))
                            .sorted().toList();
                }
                assertEquals(2, shards.size(), shards.toString());

                try (FakeHub hub = new FakeHub()) {
                    FakeHub.Repo repo = hub.repo("tiny-org/tiny-bert", COMMIT)
                            .file("config.json", Files.readAllBytes(saved.resolve("config.json")))
                            .file("tokenizer.json", Files.readAllBytes(saved.resolve("tokenizer.json")))
                            .file(WeightFiles.INDEX, Files.readAllBytes(saved.resolve(WeightFiles.INDEX)));
                    for (String shard : shards) {
                        repo.lfsFile(shard, Files.readAllBytes(saved.resolve(shard)));
                    }
                    HubConfig config = new HubConfig(hub.endpoint(), cache, null, false);

                    Path dir = ModelLocator.resolve("tiny-org/tiny-bert", config);

                    assertEquals(cache.resolve("models--tiny-org--tiny-bert/snapshots").resolve(COMMIT), dir);
                    assertEquals(shards.size(), hub.requests("cdn").size(), "each shard through the CDN");
                    TransformerModel.Loaded loaded = TransformerModel.load(dir, manager);
                    try (TransformerModel back = loaded.model(); TextTokenizer tok = TextTokenizer.load(dir, 0)) {
                        assertTrue(loaded.report().clean(), loaded.report().summary());
                        for (String key : List.of("embeddings.word_embeddings.weight", "encoder.layer.1.output.dense.weight")) {
                            HostTensor want = original.parameters().stateDict(k -> k.equals(key)).get(key);
                            HostTensor got = back.parameters().stateDict(k -> k.equals(key)).get(key);
                            assertTrue(want.sameAs(got), key);
                        }
                        assertEquals(TinyModels.VOCAB, tok.vocabSize());
                    }
                    int requests = hub.requests().size();
                    assertEquals(dir, ModelLocator.resolve("tiny-org/tiny-bert", config.withOffline(true)));
                    assertEquals(requests, hub.requests().size());
                }
            }
        }
    }

    @Test
    void aLocalDirectoryWinsOverAHubIdOfTheSameSpelling() throws Exception {
        // Tests run in the module directory, so "target/<name>" is both a relative path and a valid repo id.
        Path local = Path.of("target", "hub-precedence-" + ProcessHandle.current().pid());
        Files.createDirectories(local);
        try (FakeHub hub = new FakeHub()) {
            HubConfig config = new HubConfig(hub.endpoint(), work.resolve("cache"), null, false);
            assertEquals(local, ModelLocator.resolve(local.toString().replace('\\', '/'), config));
            assertEquals(0, hub.requests().size());
            // A bare name that is no directory here is a legacy Hub id (as in transformers): asked of the Hub,
            // and the answer says both places were looked in.
            var bare = org.junit.jupiter.api.Assertions.assertThrows(org.finetune4j.io.CheckpointException.class,
                    () -> ModelLocator.resolve("no-such-model", config));
            assertTrue(bare.getMessage().startsWith("no directory \"no-such-model\" exists here, and no such model on the"
                    + " Hugging Face Hub"), bare.getMessage());
        } finally {
            Files.delete(local);
        }
    }

    @Test
    void theLocatorSaysWhatItAcceptsAndRejectsTraversalWithoutARequest() throws Exception {
        try (FakeHub hub = new FakeHub()) {
            HubConfig config = new HubConfig(hub.endpoint(), work.resolve("cache"), null, false);
            for (String bad : List.of("acme/../../etc", "./no/such/dir", "acme/tiny@../x", "-x")) {
                var e = org.junit.jupiter.api.Assertions.assertThrows(org.finetune4j.io.CheckpointException.class,
                        () -> ModelLocator.resolve(bad, config), bad);
                assertTrue(e.getMessage().contains("[org/]name[@revision]"), e.getMessage());
                assertTrue(e.getMessage().contains(org.finetune4j.testing.FixtureModelSource.ID), e.getMessage()); // the installed sources' ids
            }
            assertEquals(0, hub.requests().size());
            assertTrue(Files.notExists(work.resolve("cache")));
        }
    }

    /** "runs/tweet" with runs/ here is a mistyped path: said so, with the names that exist, and nothing downloaded. */
    @Test
    void aMistypedLocalPathIsNotTakenForAHubId() throws Exception {
        Path here = Path.of("target", "locator-test", "tweets-full"); // relative, as a user types it
        Files.createDirectories(here);
        try (FakeHub hub = new FakeHub()) {
            HubConfig config = new HubConfig(hub.endpoint(), work.resolve("cache"), null, false);
            var e = org.junit.jupiter.api.Assertions.assertThrows(org.finetune4j.io.CheckpointException.class,
                    () -> ModelLocator.resolve("target/locator-test/tweets", config));
            assertTrue(e.getMessage().contains("no such directory, although target/locator-test/ exists here, which holds"
                    + " tweets-full"), e.getMessage());
            assertTrue(e.getMessage().contains("target/locator-test/tweets@main"), e.getMessage());
            assertEquals(0, hub.requests().size());
            assertEquals(here, ModelLocator.resolve("target/locator-test/tweets-full", config), "the right name still works");
        }
    }

    @Test
    void anInstalledModelSourceAnswersBeforeTheHub() throws Exception {
        Path dir = Files.createDirectories(work.resolve("from-source"));
        System.setProperty(org.finetune4j.testing.FixtureModelSource.PROPERTY, dir.toString());
        try (FakeHub hub = new FakeHub()) {
            HubConfig config = new HubConfig(hub.endpoint(), work.resolve("cache"), null, false);
            assertEquals(dir, ModelLocator.resolve(org.finetune4j.testing.FixtureModelSource.ID, config));
            assertEquals(0, hub.requests().size());
        } finally {
            System.clearProperty(org.finetune4j.testing.FixtureModelSource.PROPERTY);
        }
    }

    @Test
    void theConfigComesFromTheSameVariablesAsHuggingfaceHub() throws Exception {
        Path home = work.resolve("home");
        HubConfig defaults = HubConfig.fromEnvironment(java.util.Map.of(), home);
        assertEquals(home.resolve(".cache/huggingface/hub").toAbsolutePath(), defaults.cacheDir());
        assertEquals(java.net.URI.create("https://huggingface.co"), defaults.endpoint());
        assertEquals(null, defaults.token());
        assertEquals(false, defaults.offline());

        assertEquals(work.resolve("hf/hub"), HubConfig.fromEnvironment(java.util.Map.of("HF_HOME", work.resolve("hf").toString()),
                home).cacheDir());
        assertEquals(work.resolve("c"), HubConfig.fromEnvironment(java.util.Map.of("HF_HOME", work.resolve("hf").toString(),
                "HF_HUB_CACHE", work.resolve("c").toString()), home).cacheDir());
        HubConfig env = HubConfig.fromEnvironment(java.util.Map.of("HF_ENDPOINT", "http://127.0.0.1:8080/mirror/",
                "HF_TOKEN", "hf_abc", "HF_HUB_OFFLINE", "1"), home);
        assertEquals(java.net.URI.create("http://127.0.0.1:8080/mirror"), env.endpoint());
        assertEquals("hf_abc", env.token());
        assertTrue(env.offline());
        assertTrue(HubConfig.fromEnvironment(java.util.Map.of("HF_HUB_OFFLINE", "TRUE"), home).offline());
        assertTrue(!HubConfig.fromEnvironment(java.util.Map.of("HF_HUB_OFFLINE", "0"), home).offline());
        assertTrue(!env.toString().contains("hf_abc"), "a logged config must not show the token");

        // the token file `huggingface-cli login` writes, when HF_TOKEN is not set
        Files.createDirectories(home.resolve(".cache/huggingface"));
        Files.writeString(home.resolve(".cache/huggingface/token"), "hf_from_file\n");
        assertEquals("hf_from_file", HubConfig.fromEnvironment(java.util.Map.of(), home).token());

        var bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> HubConfig.fromEnvironment(java.util.Map.of("HF_ENDPOINT", "huggingface.co"), home));
        assertTrue(bad.getMessage().contains("HF_ENDPOINT"), bad.getMessage());
    }
}
