package org.finetune4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.ProcessLock;
import org.finetune4j.io.WeightFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Models from the Hugging Face Hub: {@link #download} fetches the files a classifier needs into the
 * shared Hugging Face cache and returns the snapshot directory, which is an ordinary model directory.
 *
 * <p>The files: {@code config.json}; the tokenizer files that exist ({@code tokenizer.json},
 * {@code tokenizer_config.json}, {@code special_tokens_map.json}, {@code vocab.txt}, and the SentencePiece
 * models that Python's slow tokenizers read, {@code spm.model} (DeBERTa-v3) and
 * {@code sentencepiece.bpe.model} (XLM-R)); and the weights,
 * {@code model.safetensors} or {@code model.safetensors.index.json} with every shard it names.
 *
 * <p>The cache comes first: a revision whose snapshot already holds all of them is used without any
 * request, so a second run, or a run after Python downloaded the model, starts at once and works without
 * a network. (The other side of that: a branch that moved on the Hub is not fetched again while the cached
 * snapshot is complete. Ask for the new commit hash, or delete {@code refs/<branch>}, to update it.) With
 * {@link HubConfig#offline()} nothing but the cache is used at all.
 */
public final class HubModels {
    private static final Logger LOG = LoggerFactory.getLogger(HubModels.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    public static final String CONFIG = "config.json";
    /** Tokenizer files a model may have; the tokenizer loader needs tokenizer.json or vocab.txt among them. */
    public static final List<String> OPTIONAL_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "vocab.txt", "spm.model", "sentencepiece.bpe.model");
    private static final List<String> PICKLE_WEIGHTS = List.of("pytorch_model.bin", "pytorch_model.bin.index.json");

    private HubModels() {
    }

    /** {@link #download(HubModelId, HubConfig)} for {@code org/name[@revision]}. */
    public static Path download(String spec, HubConfig config) {
        return download(HubModelId.parse(spec), config);
    }

    /** The snapshot directory of {@code id} in the cache, downloading what it lacks unless offline. */
    public static Path download(HubModelId id, HubConfig config) {
        return download(id, config, HubClient.IDLE_TIMEOUT);
    }

    /** As {@link #download(HubModelId, HubConfig)}, cancelling (and resuming) a transfer idle for {@code idleTimeout}. */
    static Path download(HubModelId id, HubConfig config, java.time.Duration idleTimeout) {
        HubCache cache = new HubCache(config.cacheDir(), id);
        Optional<String> cached = cache.commitOf(id.revision());
        if (cached.isPresent()) {
            List<String> missing = missing(cache, cached.get(), config.offline());
            if (missing.isEmpty()) {
                LOG.debug("Using {} from the cache: {}", id, cache.snapshot(cached.get()));
                return cache.snapshot(cached.get());
            }
            if (config.offline()) {
                throw new CheckpointException("HF_HUB_OFFLINE is set and the cached snapshot " + cache.snapshot(cached.get())
                        + " of " + id + " lacks " + String.join(", ", missing) + ". Download it once with HF_HUB_OFFLINE"
                        + " unset, or point HF_HUB_CACHE (or HF_HOME) at a cache that has it.");
            }
        } else if (config.offline()) {
            Path lacking = id.revisionIsCommit() ? cache.snapshot(id.revision()) : cache.ref(id.revision());
            throw new CheckpointException("HF_HUB_OFFLINE is set and " + id + " is not in the Hugging Face cache (there is"
                    + " no " + lacking + "). Download it once with HF_HUB_OFFLINE unset, or point HF_HUB_CACHE (or"
                    + " HF_HOME) at a cache that has it.");
        }
        return new Fetch(new HubClient(config, idleTimeout), cache, id).run();
    }

    /**
     * What a cached snapshot lacks. Offline, a tokenizer file the snapshot does not have is taken as absent
     * from the repository; online, it counts as missing until the Hub has said so (a {@code .no_exist} marker).
     */
    static List<String> missing(HubCache cache, String commit, boolean offline) {
        List<String> missing = new ArrayList<>();
        if (!cache.has(commit, CONFIG)) {
            missing.add(CONFIG);
        }
        for (String f : OPTIONAL_FILES) {
            if (!offline && !cache.has(commit, f) && !cache.knownMissing(commit, f)) {
                missing.add(f);
            }
        }
        if (cache.has(commit, WeightFiles.SINGLE)) {
            return missing;
        }
        if (cache.has(commit, WeightFiles.INDEX)) {
            for (String shard : shards(cache.pointer(commit, WeightFiles.INDEX))) {
                if (!cache.has(commit, shard)) {
                    missing.add(shard);
                }
            }
            return missing;
        }
        missing.add(WeightFiles.SINGLE + " (or " + WeightFiles.INDEX + " and its shards)");
        return missing;
    }

    /** The shard files an index names, each checked to be a plain file name beside the index. */
    static Set<String> shards(Path index) {
        JsonNode map;
        try {
            JsonNode root = JSON.readTree(index.toFile());
            map = root == null ? null : root.get("weight_map");
        } catch (IOException e) {
            throw new CheckpointException(index + ": not valid JSON (" + e.getMessage() + "). Delete it so it is downloaded"
                    + " again.", e);
        }
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new CheckpointException(index + ": no \"weight_map\" object naming each tensor's shard.");
        }
        Set<String> shards = new LinkedHashSet<>();
        for (JsonNode v : map) {
            String name = v.asText();
            try {
                HubModelId.checkFileName(name, index.toString());
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(e.getMessage() + "; refusing to download it.", e);
            }
            if (name.contains("/")) {
                throw new CheckpointException(index + ": shard \"" + name + "\" is in a subfolder; finetune4j reads shards"
                        + " that sit beside the index only.");
            }
            shards.add(name);
        }
        return shards;
    }

    /** One download of a snapshot: every file from the commit the first one resolved to. */
    private static final class Fetch {
        private final HubClient client;
        private final HubCache cache;
        private final HubModelId id;
        private String commit;

        Fetch(HubClient client, HubCache cache, HubModelId id) {
            this.client = client;
            this.cache = cache;
            this.id = id;
        }

        Path run() {
            // config.json first: it tells the commit, and its absence that there is no such model.
            HubClient.Metadata config = client.metadata(id, id.revision(), CONFIG)
                    .orElseThrow(() -> client.noSuchModel(id, client.resolveUrl(id, id.revision(), CONFIG)));
            commit = config.commit();
            store(CONFIG, config);
            for (String f : OPTIONAL_FILES) {
                fetch(f);
            }
            if (!fetch(WeightFiles.SINGLE)) {
                if (!fetch(WeightFiles.INDEX)) {
                    throw noSafetensors();
                }
                for (String shard : shards(cache.pointer(commit, WeightFiles.INDEX))) {
                    if (!fetch(shard)) {
                        throw new CheckpointException(id + " (commit " + commit + "): " + WeightFiles.INDEX + " names the"
                                + " shard " + shard + ", but the Hub has no such file. The repository is broken at this"
                                + " revision; try another one.");
                    }
                }
            }
            if (!id.revisionIsCommit()) {
                cache.writeRef(id.revision(), commit);
            }
            LOG.info("{} is in {}", id, cache.snapshot(commit));
            return cache.snapshot(commit);
        }

        /** Fetches {@code file} of the commit unless the snapshot has it; false when the repository has none. */
        private boolean fetch(String file) {
            if (cache.has(commit, file)) {
                return true;
            }
            if (cache.knownMissing(commit, file)) {
                return false;
            }
            Optional<HubClient.Metadata> meta = client.metadata(id, commit, file);
            if (meta.isEmpty()) {
                cache.markMissing(commit, file);
                return false;
            }
            store(file, meta.get());
            return true;
        }

        private void store(String file, HubClient.Metadata meta) {
            if (!commit.equals(meta.commit())) {
                throw new CheckpointException(id + ": the Hub answered for " + file + " with commit " + meta.commit()
                        + " where the snapshot is commit " + commit + ". Check that HF_ENDPOINT is the Hub or a consistent"
                        + " mirror.");
            }
            if (!cache.has(commit, file)) {
                Path blob = cache.blob(meta.etag());
                if (!Files.isRegularFile(blob)) {
                    // Two processes fetching the same blob: the second waits, then finds it in place.
                    try (ProcessLock lock = ProcessLock.acquire(cache.lockFile(meta.etag()))) {
                        if (!Files.isRegularFile(blob)) {
                            client.fetchBlob(id, file, meta, cache.incomplete(meta.etag()), blob);
                        }
                    }
                }
                cache.link(commit, file, blob);
            }
        }

        private CheckpointException noSafetensors() {
            for (String pickle : PICKLE_WEIGHTS) {
                if (client.metadata(id, commit, pickle).isPresent()) {
                    return new CheckpointException(id + " (commit " + commit + ") has its weights only as " + pickle
                            + ", PyTorch's pickle format, which finetune4j does not read (unpickling can run code)."
                            + " Convert it once in Python: AutoModel.from_pretrained(\"" + id.repoId() + "\")"
                            + ".save_pretrained(\"some-dir\", safe_serialization=True), then pass --model some-dir"
                            + " (with the tokenizer files copied beside it).");
                }
            }
            return new CheckpointException(id + " (commit " + commit + ") has no " + WeightFiles.SINGLE + ", "
                    + WeightFiles.INDEX + " or pytorch_model.bin: it is not a model finetune4j can load (it may hold"
                    + " only ONNX, TensorFlow or GGUF weights).");
        }
    }
}
