package org.finetune4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON mapping each tensor name to {dtype, shape, data_offsets}, then the raw
 * little-endian bytes. Reading maps the file and checks the header against the file before any tensor
 * is used, so a truncated or lying file is an error with the file and key named, never a crash.
 */
public final class SafeTensors implements AutoCloseable {
    /** The Rust reference refuses headers over 100 MB; so do we. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where one tensor lives in the data section. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafeTensors(Path file, FileChannel channel, long dataStart, Map<String, Entry> entries,
            Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Opens and validates a .safetensors file; close it when done. */
    public static SafeTensors open(Path file) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": file not found. Check the model directory path.");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + file + ": " + e.getMessage(), e);
        }
        try {
            SafeTensors st = parse(file, ch);
            return st;
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static SafeTensors parse(Path file, FileChannel ch) {
        try {
            long size = ch.size();
            if (size < 8) {
                throw bad(file, "the file is " + size + " bytes long, too short to hold the 8-byte header length"
                        + " (truncated download?)");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long n = lenBuf.getLong(0);
            if (n < 2 || n > MAX_HEADER_BYTES || n > size - 8) {
                throw bad(file, "the header claims " + n + " bytes but the file has " + (size - 8)
                        + " bytes after the length field (limit " + MAX_HEADER_BYTES + "): truncated or not a safetensors file");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
            readFully(ch, headerBuf, 8);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                throw bad(file, "the header is not valid JSON (" + e.getOriginalMessage() + ")");
            }
            if (header == null || !header.isObject()) {
                throw bad(file, "the header is not a JSON object");
            }
            long dataStart = 8 + n;
            long dataSize = size - dataStart;
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = header.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    f.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                entries.put(f.getKey(), parseEntry(file, f.getKey(), f.getValue(), dataSize));
            }
            checkCoverage(file, entries, dataSize);
            return new SafeTensors(file, ch, dataStart, Collections.unmodifiableMap(entries),
                    Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static Entry parseEntry(Path file, String name, JsonNode node, long dataSize) {
        String where = file + ", tensor \"" + name + "\"";
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray() || offsets == null
                || !offsets.isArray() || offsets.size() != 2) {
            throw bad(file, "tensor \"" + name + "\" needs dtype (string), shape (array) and data_offsets ([begin, end])");
        }
        DType dt = DType.parse(dtype.asText(), where);
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!shape.get(i).canConvertToLong() || shape.get(i).asLong() < 0) {
                throw bad(file, "tensor \"" + name + "\" has an invalid dimension " + shape.get(i));
            }
            dims[i] = shape.get(i).asLong();
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        long expected;
        try {
            expected = Math.multiplyExact(HostTensor.numel(dims), dt.bytes());
        } catch (ArithmeticException e) {
            throw bad(file, "tensor \"" + name + "\" has a shape too large to exist");
        }
        if (begin < 0 || end < begin || end > dataSize) {
            throw bad(file, "tensor \"" + name + "\" has data_offsets [" + begin + ", " + end
                    + "] outside the data section of " + dataSize + " bytes (truncated file?)");
        }
        if (end - begin != expected) {
            throw bad(file, "tensor \"" + name + "\" claims shape " + java.util.Arrays.toString(dims) + " of " + dt
                    + " (" + expected + " bytes) but its data_offsets span " + (end - begin) + " bytes");
        }
        return new Entry(name, dt, dims, begin, end);
    }

    /** The format requires the tensors to tile the data section exactly: no gaps, no overlaps. */
    private static void checkCoverage(Path file, Map<String, Entry> entries, long dataSize) {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long pos = 0;
        for (Entry e : sorted) {
            if (e.begin() != pos) {
                throw bad(file, "tensor \"" + e.name() + "\" starts at byte " + e.begin() + " but the previous one ends at "
                        + pos + " (the header's data_offsets overlap or leave a gap)");
            }
            pos = e.end();
        }
        if (pos != dataSize) {
            throw bad(file, "the tensors cover " + pos + " bytes but the data section has " + dataSize
                    + " (truncated file or trailing garbage)");
        }
    }

    private static CheckpointException bad(Path file, String what) {
        return new CheckpointException(file + ": invalid safetensors file: " + what
                + ". Re-download or re-export the checkpoint.");
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, position + buf.position());
            if (r < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    public Path file() {
        return file;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The tensor's bytes, memory-mapped (valid until this file is closed). */
    public HostTensor get(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException(file + ": no tensor named \"" + name + "\"");
        }
        try {
            ByteBuffer buf = e.end() == e.begin() ? ByteBuffer.allocate(0)
                    : channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), e.end() - e.begin());
            return new HostTensor(e.dtype(), e.shape(), buf);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot read tensor " + name + " from " + file + ": " + ex.getMessage(), ex);
        }
    }

    /** Reads every tensor into heap memory (a copy that outlives the file). */
    public Map<String, HostTensor> readAll() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (String name : entries.keySet()) {
            HostTensor mapped = get(name);
            ByteBuffer copy = ByteBuffer.allocate(mapped.data().remaining());
            copy.put(mapped.bytes());
            copy.flip();
            out.put(name, new HostTensor(mapped.dtype(), mapped.shape(), copy));
        }
        return out;
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // read-only channel: nothing to flush
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Writing

    /**
     * Writes tensors (in the given order) atomically. {@code metadata} may be empty; Hugging Face writes
     * {"format": "pt"} and transformers expects it, so callers saving models pass it.
     */
    public static void write(Path file, Map<String, HostTensor> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            out.write(len.array());
            out.write(header);
            byte[] chunk = new byte[1 << 16];
            for (HostTensor t : tensors.values()) {
                copy(t.bytes(), out, chunk);
            }
        });
    }

    private static void copy(ByteBuffer src, OutputStream out, byte[] chunk) throws IOException {
        while (src.hasRemaining()) {
            int n = Math.min(chunk.length, src.remaining());
            src.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes as the reference writer does. */
    static byte[] header(Map<String, HostTensor> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode md = root.putObject("__metadata__");
            metadata.forEach(md::put);
        }
        long offset = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            HostTensor t = e.getValue();
            ObjectNode node = root.putObject(e.getKey());
            node.put("dtype", t.dtype().name());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long size = t.data().remaining();
            node.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        java.util.Arrays.fill(out, (byte) ' ');
        System.arraycopy(json, 0, out, 0, json.length);
        return out;
    }

    /** Convenience: reads a whole file into heap tensors. */
    public static Map<String, HostTensor> readFile(Path file) {
        try (SafeTensors st = open(file)) {
            return st.readAll();
        }
    }

    static boolean exists(Path p) {
        return Files.isRegularFile(p);
    }
}
