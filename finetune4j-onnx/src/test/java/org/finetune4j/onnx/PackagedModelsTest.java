package org.finetune4j.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.Pooling;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.WeightFiles;
import org.finetune4j.onnx.PackagedModels.PackagedModel;
import org.finetune4j.testing.TinyOnnx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackagedModelsTest {
    /** A packaged model like the real ones, shipped in a jar this test writes. */
    static final PackagedModel TINY = new PackagedModel("tiny-bert", List.of("test/tiny-bert"), "test/tiny-bert",
            "org.example", "tiny-bert-model", "tiny-bert.onnx", "tiny-bert-tokenizer.json", Pooling.MEAN, true,
            "test license");

    @TempDir
    Path tmp;

    @Test
    void namesAreCaseInsensitiveAndAliasesWork() {
        assertSame(PackagedModels.ALL_MINILM_L6_V2, PackagedModels.get("all-MiniLM-L6-v2"));
        assertSame(PackagedModels.ALL_MINILM_L6_V2, PackagedModels.get("ALL-minilm-l6-V2"));
        assertSame(PackagedModels.ALL_MINILM_L6_V2, PackagedModels.get("sentence-transformers/all-MiniLM-L6-v2"));
        assertSame(PackagedModels.BGE_SMALL_EN_V15, PackagedModels.get("bge-small-en-v1.5"));
        assertSame(PackagedModels.BGE_SMALL_EN_V15, PackagedModels.get(" baai/BGE-small-en-v1.5 "));
        assertEquals(List.of("all-MiniLM-L6-v2", "bge-small-en-v1.5"), PackagedModels.list().stream().map(PackagedModel::id).toList());
        assertEquals(Pooling.MEAN, PackagedModels.get("all-MiniLM-L6-v2").pooling());
        assertEquals(Pooling.CLS, PackagedModels.get("bge-small-en-v1.5").pooling());
        assertTrue(PackagedModels.list().stream().allMatch(PackagedModel::normalize));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PackagedModels.get("bert-base-uncased"));
        assertTrue(e.getMessage().contains("all-MiniLM-L6-v2, bge-small-en-v1.5"), e.getMessage());
        assertTrue(PackagedModels.find("nope").isEmpty());
    }

    @Test
    void theLocatorFindsThePackagedModelsThroughTheServiceRegistration() {
        assertTrue(org.finetune4j.api.ModelSource.installed().stream().anyMatch(s -> s instanceof PackagedModelSource));
        var e = assertThrows(org.finetune4j.io.CheckpointException.class, () -> org.finetune4j.api.ModelLocator.resolve("./no/such/dir"));
        assertTrue(e.getMessage().contains("all-MiniLM-L6-v2, bge-small-en-v1.5"), e.getMessage());
        assertTrue(new PackagedModelSource().resolve("no-such-model").isEmpty());
    }

    /** An adapter trained on a packaged model names its Hub repository as the base, so Python PEFT can load it. */
    @Test
    void adaptersNameThePackagedModelsHubRepository() {
        assertEquals("sentence-transformers/all-MiniLM-L6-v2", org.finetune4j.api.ModelLocator.baseModelName("all-MiniLM-L6-v2"));
        assertEquals("sentence-transformers/all-MiniLM-L6-v2", org.finetune4j.api.ModelLocator.baseModelName("all-minilm-l6-v2"));
        assertEquals("BAAI/bge-small-en-v1.5", org.finetune4j.api.ModelLocator.baseModelName("bge-small-en-v1.5"));
        assertTrue(new PackagedModelSource().hubId("no-such-model").isEmpty());
    }

    @Test
    void theHomeDirectoryHoldsOneDirectoryPerId() {
        assertEquals(tmp.resolve("models/bge-small-en-v1.5"), PackagedModels.cacheDir(PackagedModels.BGE_SMALL_EN_V15, tmp));
        Path home = PackagedModels.defaultHome();
        String env = System.getenv(PackagedModels.HOME_ENV);
        assertEquals(env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "finetune4j"), home);
    }

    @Test
    void importsOnFirstUseAndReusesAfterwards() throws Exception {
        try (URLClassLoader jar = modelJar("1.0")) {
            Path home = tmp.resolve("home");
            Path dir = PackagedModels.resolve(TINY, home, jar);
            assertEquals(home.resolve("models/tiny-bert").toAbsolutePath(), dir);
            assertEquals(List.of(), OnnxImporter.problems(dir));
            ModelConfig mc = ModelConfig.read(dir);
            assertEquals("Maven artifact org.example:tiny-bert-model:1.0, resource tiny-bert.onnx",
                    mc.notes().get(OnnxImporter.NOTE_SOURCE));
            assertEquals("mean pooling over the real (unpadded) tokens, then L2 normalisation", mc.notes().get("sentence_embedding"));
            String readme = Files.readString(dir.resolve(OnnxImporter.README));
            assertTrue(readme.contains("test license"), readme);
            assertTrue(readme.contains("Model card: https://example.org/tiny"), "the jar's own README is quoted: " + readme);

            // Second use: the same files, not a new import (which would build a new directory without the marker).
            Path weights = dir.resolve(WeightFiles.SINGLE);
            Files.setLastModifiedTime(weights, FileTime.fromMillis(1_000_000L));
            mark(dir);
            assertEquals(dir, PackagedModels.resolve(TINY, home, jar));
            assertTrue(isMarked(dir));
            assertEquals(FileTime.fromMillis(1_000_000L), Files.getLastModifiedTime(weights));
        }
    }

    @Test
    void reimportsAnIncompleteOrStaleCache() throws Exception {
        Path home = tmp.resolve("home");
        Path dir;
        try (URLClassLoader jar = modelJar("1.0")) {
            dir = PackagedModels.resolve(TINY, home, jar);

            // A truncated weights file (a crash or a full disk outside our control) is imported again.
            Path weights = dir.resolve(WeightFiles.SINGLE);
            try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() / 2);
            }
            mark(dir);
            assertEquals(dir, PackagedModels.resolve(TINY, home, jar));
            assertEquals(List.of(), OnnxImporter.problems(dir));
            assertFalse(isMarked(dir));

            // A missing file, likewise.
            Files.delete(dir.resolve("tokenizer.json"));
            assertEquals(dir, PackagedModels.resolve(TINY, home, jar));
            assertEquals(List.of(), OnnxImporter.problems(dir));
        }
        // A new artifact version replaces the import of the old one.
        mark(dir);
        try (URLClassLoader jar = modelJar("2.0")) {
            assertEquals(dir, PackagedModels.resolve(TINY, home, jar));
            assertFalse(isMarked(dir));
            assertEquals("Maven artifact org.example:tiny-bert-model:2.0, resource tiny-bert.onnx",
                    ModelConfig.read(dir).notes().get(OnnxImporter.NOTE_SOURCE));
        }
        OnnxImporterTest.assertNoLeftovers(dir.getParent());
    }

    @Test
    void leftoversOfAnInterruptedImportAreRemovedWhenOld() throws Exception {
        Path models = tmp.resolve("home/models");
        Path old = models.resolve(".tiny-bert.partial-1234");
        Path live = models.resolve(".tiny-bert.partial-5678"); // another process may be writing this one now
        Files.createDirectories(old);
        Files.createDirectories(live);
        Files.writeString(old.resolve("model.safetensors"), "half");
        Files.setLastModifiedTime(old, FileTime.fromMillis(System.currentTimeMillis() - 2 * 3600_000L));
        try (URLClassLoader jar = modelJar("1.0")) {
            PackagedModels.resolve(TINY, tmp.resolve("home"), jar);
        }
        assertFalse(Files.exists(old));
        assertTrue(Files.exists(live));
    }

    @Test
    void concurrentFirstUsesShareOneImport() throws Exception {
        Path home = tmp.resolve("home");
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (URLClassLoader jar = modelJar("1.0")) {
            List<Future<Path>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                results.add(pool.submit(() -> PackagedModels.resolve(TINY, home, jar)));
            }
            for (Future<Path> f : results) {
                assertEquals(home.resolve("models/tiny-bert").toAbsolutePath(), f.get());
            }
            assertEquals(List.of(), OnnxImporter.problems(home.resolve("models/tiny-bert")));
            OnnxImporterTest.assertNoLeftovers(home.resolve("models"));
        } finally {
            pool.shutdown();
        }
    }

    /** Two JVMs resolving the same model at once: both get the one complete import. */
    @Test
    void twoProcessesResolvingAtOnceGetOneCompleteImport() throws Exception {
        Path home = tmp.resolve("home");
        Path jar;
        try (URLClassLoader loader = modelJar("1.0")) {
            jar = Path.of(loader.getURLs()[0].toURI());
        }
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> processes = new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            processes.add(new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                    "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                    ResolveMain.class.getName(), jar.toString(), home.toString()).redirectErrorStream(true).start());
        }
        int imports = 0;
        for (Process p : processes) {
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), output);
            assertTrue(output.contains("resolved " + home.resolve("models/tiny-bert").toAbsolutePath()), output);
            imports += output.contains("Importing tiny-bert") ? 1 : 0;
        }
        assertEquals(1, imports, "the lock lets one process import and the other reuse it");
        assertEquals(List.of(), OnnxImporter.problems(home.resolve("models/tiny-bert")));
        OnnxImporterTest.assertNoLeftovers(home.resolve("models"));
    }

    /** The other process of {@link #twoProcessesResolvingAtOnceGetOneCompleteImport}. */
    public static final class ResolveMain {
        public static void main(String[] args) throws Exception {
            try (URLClassLoader loader = new URLClassLoader(new URL[] {Path.of(args[0]).toUri().toURL()}, null)) {
                System.out.println("resolved " + PackagedModels.resolve(TINY, Path.of(args[1]), loader));
            }
        }
    }

    @Test
    void aModelMissingFromTheClasspathSaysWhichDependencyToAdd() throws Exception {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> PackagedModels.resolve(TINY, tmp, empty));
            assertTrue(e.getMessage().contains("Add the Maven dependency org.example:tiny-bert-model"), e.getMessage());
        }
    }

    /** A file no import writes: present after resolve only if the directory was reused. */
    private static void mark(Path dir) throws IOException {
        Files.writeString(dir.resolve("marker.txt"), "reused");
    }

    private static boolean isMarked(Path dir) {
        return Files.exists(dir.resolve("marker.txt"));
    }

    /** A jar laid out like the langchain4j model jars: export, tokenizer and README at the root, plus pom.properties. */
    private URLClassLoader modelJar(String version) throws IOException {
        Path jar = tmp.resolve("tiny-bert-model-" + version + ".jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                InputStream tokenizer = getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            put(out, TINY.onnxResource(), TinyOnnx.bert(TinyOnnx.Spec.tiny()).bytes());
            put(out, TINY.tokenizerResource(), tokenizer.readAllBytes());
            put(out, "README", "Model card: https://example.org/tiny\n".getBytes(StandardCharsets.UTF_8));
            put(out, "META-INF/maven/org.example/tiny-bert-model/pom.properties",
                    ("groupId=org.example\nartifactId=tiny-bert-model\nversion=" + version + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
    }

    private static void put(JarOutputStream out, String name, byte[] bytes) throws IOException {
        out.putNextEntry(new JarEntry(name));
        OutputStream o = out;
        o.write(bytes);
        out.closeEntry();
    }
}
