package org.finetune4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a Hugging Face model directory: {@code model.safetensors}, or shards listed in
 * {@code model.safetensors.index.json}. Tensors are memory-mapped and read on demand.
 */
public final class WeightFiles implements TensorSource, AutoCloseable {
    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Map<String, SafeTensors> byName;
    private final List<SafeTensors> files;

    private WeightFiles(Path dir, Map<String, SafeTensors> byName, List<SafeTensors> files) {
        this.dir = dir;
        this.byName = byName;
        this.files = files;
    }

    /** Opens the weights of {@code dir}; the error lists what the directory holds when none are found. */
    public static WeightFiles open(Path dir) {
        Path single = dir.resolve(SINGLE);
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(single)) {
            SafeTensors st = SafeTensors.open(single);
            Map<String, SafeTensors> m = new LinkedHashMap<>();
            st.entries().keySet().forEach(k -> m.put(k, st));
            return new WeightFiles(dir, m, List.of(st));
        }
        if (Files.isRegularFile(index)) {
            return openSharded(dir, index);
        }
        String hint = Files.isRegularFile(dir.resolve("pytorch_model.bin"))
                ? " It holds pytorch_model.bin (pickle), which finetune4j does not read: convert it in Python with"
                        + " model.save_pretrained(dir, safe_serialization=True)."
                : Files.isRegularFile(dir.resolve("model.onnx")) || Files.exists(dir.resolve("onnx"))
                        ? " It holds an ONNX export: convert it with ./finetune4j import-onnx."
                        : "";
        throw new CheckpointException(dir + ": no " + SINGLE + " or " + INDEX + " found (directory contents: "
                + list(dir) + ")." + hint);
    }

    private static WeightFiles openSharded(Path dir, Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointException(index + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(index + ": missing the \"weight_map\" object that names each tensor's shard");
        }
        Map<String, SafeTensors> shards = new LinkedHashMap<>();
        Map<String, SafeTensors> byName = new LinkedHashMap<>();
        try {
            var it = map.fields();
            while (it.hasNext()) {
                var e = it.next();
                String shardName = e.getValue().asText();
                Path shardPath = dir.resolve(shardName).normalize();
                if (!shardPath.startsWith(dir.normalize()) || shardName.contains("/") || shardName.contains("\\")) {
                    throw new CheckpointException(index + ": shard name \"" + shardName + "\" for tensor \"" + e.getKey()
                            + "\" points outside the model directory");
                }
                SafeTensors st = shards.computeIfAbsent(shardName, s -> SafeTensors.open(shardPath));
                if (!st.contains(e.getKey())) {
                    throw new CheckpointException(index + ": names tensor \"" + e.getKey() + "\" in " + shardName
                            + " but that shard does not hold it. Re-download the checkpoint.");
                }
                byName.put(e.getKey(), st);
            }
        } catch (RuntimeException e) {
            shards.values().forEach(SafeTensors::close);
            throw e;
        }
        return new WeightFiles(dir, byName, new ArrayList<>(shards.values()));
    }

    private static String list(Path dir) {
        if (!Files.isDirectory(dir)) {
            return "the directory does not exist";
        }
        try (var s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            return names.isEmpty() ? "empty" : String.join(", ", names);
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    public Path dir() {
        return dir;
    }

    @Override
    public String describe() {
        return dir.toString();
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(byName.keySet());
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    public SafeTensors.Entry entry(String name) {
        return byName.get(name).entries().get(name);
    }

    @Override
    public HostTensor get(String name) {
        SafeTensors st = byName.get(name);
        if (st == null) {
            throw new CheckpointException(dir + ": no tensor named \"" + name + "\"");
        }
        return st.get(name);
    }

    @Override
    public void close() {
        files.forEach(SafeTensors::close);
    }

    /**
     * Writes weights into {@code dir}: one {@code model.safetensors}, or shards of at most
     * {@code maxShardBytes} plus the index when they do not fit in one (as save_pretrained does).
     * Files of an earlier save that the new layout does not use are removed, so the directory never
     * mixes two checkpoints.
     */
    public static void write(Path dir, Map<String, HostTensor> tensors, long maxShardBytes) {
        Map<String, String> meta = Map.of("format", "pt");
        long total = tensors.values().stream().mapToLong(t -> t.data().remaining()).sum();
        List<Map<String, HostTensor>> shards = new ArrayList<>();
        Map<String, HostTensor> current = new LinkedHashMap<>();
        long currentSize = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            long size = e.getValue().data().remaining();
            if (!current.isEmpty() && currentSize + size > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentSize = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentSize += size;
        }
        shards.add(current);
        try {
            Files.createDirectories(dir);
            Set<String> written = new LinkedHashSet<>();
            if (shards.size() == 1) {
                SafeTensors.write(dir.resolve(SINGLE), tensors, meta);
                written.add(SINGLE);
            } else {
                ObjectNode index = JSON.createObjectNode();
                index.putObject("metadata").put("total_size", total);
                ObjectNode map = index.putObject("weight_map");
                for (int i = 0; i < shards.size(); i++) {
                    String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
                    SafeTensors.write(dir.resolve(name), shards.get(i), meta);
                    shards.get(i).keySet().forEach(k -> map.put(k, name));
                    written.add(name);
                }
                AtomicFiles.writeString(dir.resolve(INDEX), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index));
                written.add(INDEX);
            }
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String n = p.getFileName().toString();
                    boolean weights = n.equals(SINGLE) || n.equals(INDEX) || n.matches("model-\\d{5}-of-\\d{5}\\.safetensors");
                    if (weights && !written.contains(n)) {
                        Files.delete(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write weights to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Default shard size of transformers' save_pretrained (5 GB). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;
}
