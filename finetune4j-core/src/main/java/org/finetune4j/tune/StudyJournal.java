package org.finetune4j.tune;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@value #FILE}: a study's append-only record, one JSON object per line, each written whole and forced to
 * disk before the study goes on, so that a study killed at any moment (even {@code kill -9}) can be resumed
 * from it. The first line holds the {@link StudySettings}; then one line per event:
 *
 * <pre>
 * {"event":"start","trial":3,"params":{"learning_rate":4.1e-5},"time":"2026-...Z"}
 * {"event":"intermediate","trial":3,"step":1,"value":0.79,"epoch":1.0,"global_step":120}
 * {"event":"finish","trial":3,"state":"PRUNED","value":null,"wall_seconds":41.2,"peak_rss_mb":812.0,...}
 * </pre>
 *
 * A trial started twice (re-run after a kill) keeps its last start. A last line without its newline is the
 * torn write of a killed study: reading skips it, and appending first cuts it off.
 */
final class StudyJournal implements AutoCloseable {
    static final String FILE = "study.jsonl";
    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private final Path file;
    private final FileChannel out;

    private StudyJournal(Path file, FileChannel out) {
        this.file = file;
        this.out = out;
    }

    /** A new journal in {@code dir} holding {@code settings}; {@code dir} must not have one. */
    static StudyJournal create(Path dir, StudySettings settings) {
        Path file = dir.resolve(FILE);
        try {
            StudyJournal j = new StudyJournal(file, FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("event", "settings");
            line.putAll(settings.toJson());
            line.put("time", Instant.now().toString());
            j.write(line);
            return j;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file + ": " + e.getMessage(), e);
        }
    }

    /** The journal in {@code dir}, opened to append; a torn last line is cut off first. */
    static StudyJournal append(Path dir) {
        Path file = dir.resolve(FILE);
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE);
            ch.truncate(wholeLinesLength(Files.readAllBytes(file)));
            ch.position(ch.size());
            return new StudyJournal(file, ch);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + file + " to continue the study: " + e.getMessage(), e);
        }
    }

    void started(int trial, Map<String, Object> params, Instant time) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", "start");
        line.put("trial", trial);
        line.put("params", params);
        line.put("time", time.toString());
        write(line);
    }

    void intermediate(int trial, int step, double value, Double epoch, Long globalStep) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", "intermediate");
        line.put("trial", trial);
        line.put("step", step);
        line.put("value", value);
        line.put("epoch", epoch);
        line.put("global_step", globalStep);
        write(line);
    }

    void finished(TrialRecord r) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", "finish");
        line.put("trial", r.number());
        line.put("state", r.state().name());
        line.put("value", r.value());
        line.put("wall_seconds", r.wallSeconds());
        line.put("peak_rss_mb", r.peakRssMb());
        line.put("epoch", r.epoch());
        line.put("step", r.step());
        line.put("pid", r.pid());
        line.put("error", r.error());
        line.put("time", r.finished().toString());
        write(line);
    }

    private void write(Map<String, Object> line) {
        try {
            ByteBuffer bytes = ByteBuffer.wrap((JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException ignored) {
            // every line was forced to disk when it was written
        }
    }

    /** A journal read back: the settings and every trial started, in number order (unfinished ones RUNNING). */
    record Replay(StudySettings settings, List<TrialRecord> trials, boolean tornLastLine) {
    }

    static Replay read(Path dir) {
        Path file = dir.resolve(FILE);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " (" + e.getMessage() + "); --resume needs the directory"
                    + " of a study, the --output of an earlier tune", e);
        }
        int whole = wholeLinesLength(bytes);
        String[] lines = new String(bytes, 0, whole, StandardCharsets.UTF_8).split("\n");
        StudySettings settings = null;
        TreeMap<Integer, Builder> trials = new TreeMap<>();
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            Map<String, Object> e = parse(file, i + 1, lines[i]);
            String event = String.valueOf(e.get("event"));
            if (settings == null && !event.equals("settings")) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": the first line must hold the study settings"
                        + " ({\"event\":\"settings\",...}); this is not a study journal");
            }
            try {
                switch (event) {
                    case "settings" -> settings = StudySettings.fromJson(e);
                    case "start" -> trials.put(number(e), new Builder(number(e), params(e), Instant.parse((String) e.get("time")),
                            dir));
                    case "intermediate" -> trial(trials, e).intermediate.put(((Number) e.get("step")).intValue(),
                            dbl(e.get("value")));
                    case "finish" -> trial(trials, e).finish(e);
                    default -> throw new IllegalArgumentException("unknown event \"" + event + "\"");
                }
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": " + ex.getMessage()
                        + "; the study journal is damaged", ex);
            }
        }
        if (settings == null) {
            throw new IllegalArgumentException(file + " is empty: the study was killed before it wrote its settings."
                    + " Start it again with --overwrite.");
        }
        return new Replay(settings, trials.values().stream().map(Builder::build).toList(), whole < bytes.length);
    }

    /** The length of the file up to and including its last newline: what was written whole. */
    private static int wholeLinesLength(byte[] bytes) {
        int n = bytes.length;
        while (n > 0 && bytes[n - 1] != '\n') {
            n--;
        }
        return n;
    }

    private static Map<String, Object> parse(Path file, int lineNo, String line) {
        try {
            return JSON.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() {
            });
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + " line " + lineNo + ": not a JSON object (" + e.getOriginalMessage()
                    + "); the study journal is damaged. Only its last line may be cut short by a kill.", e);
        }
    }

    private static int number(Map<String, Object> e) {
        return ((Number) e.get("trial")).intValue();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> params(Map<String, Object> e) {
        return (Map<String, Object>) e.get("params");
    }

    private static Builder trial(Map<Integer, Builder> trials, Map<String, Object> e) {
        Builder b = trials.get(number(e));
        if (b == null) {
            throw new IllegalArgumentException("trial " + number(e) + " has an event before its start");
        }
        return b;
    }

    /** The directory of trial {@code number}. */
    static Path runDir(Path studyDir, int number) {
        return studyDir.resolve("trial-" + number);
    }

    private static final class Builder {
        final int number;
        final Map<String, Object> params;
        final Instant started;
        final Path runDir;
        final TreeMap<Integer, Double> intermediate = new TreeMap<>();
        Map<String, Object> finish;

        Builder(int number, Map<String, Object> params, Instant started, Path studyDir) {
            this.number = number;
            this.params = params;
            this.started = started;
            this.runDir = runDir(studyDir, number);
        }

        void finish(Map<String, Object> e) {
            finish = e;
        }

        TrialRecord build() {
            if (finish == null) {
                return new TrialRecord(number, params, TrialState.RUNNING, null, intermediate, runDir, started, null, Double.NaN,
                        -1, null, null, -1, null);
            }
            return new TrialRecord(number, params, TrialState.valueOf((String) finish.get("state")), dbl(finish.get("value")),
                    intermediate, runDir, started, Instant.parse((String) finish.get("time")),
                    dbl(finish.get("wall_seconds")), dbl(finish.get("peak_rss_mb")), dbl(finish.get("epoch")),
                    finish.get("step") == null ? null : ((Number) finish.get("step")).longValue(),
                    ((Number) finish.get("pid")).longValue(), (String) finish.get("error"));
        }
    }

    /** A number as written: null, a JSON number, or NaN/Infinity, which Jackson writes as strings. */
    private static Double dbl(Object o) {
        if (o == null) {
            return null;
        }
        return o instanceof Number n ? n.doubleValue() : Double.parseDouble(o.toString());
    }
}
