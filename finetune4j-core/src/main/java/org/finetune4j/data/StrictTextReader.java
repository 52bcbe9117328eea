package org.finetune4j.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Decodes a data file strictly: bytes that are not valid in the encoding are an error naming the file and
 * line, never silently replaced by U+FFFD (which would train on damaged text). Gzip is recognised by its
 * magic bytes, and a UTF-8 byte order mark is dropped. It also remembers where each line starts, so that
 * a CSV record's character position can be turned into the line a user sees in an editor.
 */
final class StrictTextReader extends Reader {
    private static final int CHUNK = 1 << 16;

    private final Path file;
    private final Charset charset;
    private final InputStream in;
    private final CharsetDecoder decoder;
    private final ByteBuffer bytes = ByteBuffer.allocate(CHUNK);
    private final CharBuffer chars = CharBuffer.allocate(CHUNK);
    private boolean endOfInput;
    private boolean flushed;
    /** Character offsets of every '\n' decoded so far, in order. */
    private long[] newlines = new long[1024];
    private int newlineCount;
    /** Characters decoded so far (handed out or waiting in {@link #chars}), not counting a byte order mark. */
    private long decoded;
    private boolean first = true;

    private StrictTextReader(Path file, InputStream in, Charset charset) {
        this.file = file;
        this.charset = charset;
        this.in = in;
        this.decoder = charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        bytes.flip();
        chars.flip();
    }

    static StrictTextReader open(Path file, Charset charset) {
        InputStream in = null;
        try {
            in = new BufferedInputStream(Files.newInputStream(file), CHUNK);
            if (startsWith(in, 0x1f, 0x8b)) {
                in = new BufferedInputStream(new GZIPInputStream(in, CHUNK), CHUNK);
            }
            if (charset.equals(StandardCharsets.UTF_8) && (startsWith(in, 0xfe, 0xff) || startsWith(in, 0xff, 0xfe))) {
                throw new DataException(file + ": the file starts with a UTF-16 byte order mark; re-save it as UTF-8,"
                        + " or read it with encoding UTF-16 (--encoding UTF-16)");
            }
            return new StrictTextReader(file, in, charset);
        } catch (IOException | RuntimeException e) {
            closeQuietly(in, e);
            if (e instanceof java.nio.file.NoSuchFileException) {
                throw new DataException(file + ": no such file; check the path", e);
            }
            if (e instanceof IOException) {
                throw new DataException(file + ": cannot read the file (" + e.getMessage() + ")", e);
            }
            throw (RuntimeException) e;
        }
    }

    /** Whether the stream's next two bytes are {@code b0 b1}; reads nothing. */
    private static boolean startsWith(InputStream in, int b0, int b1) throws IOException {
        in.mark(2);
        int a = in.read();
        int b = in.read();
        in.reset();
        return a == b0 && b == b1;
    }

    private static void closeQuietly(InputStream in, Exception failure) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                failure.addSuppressed(e);
            }
        }
    }

    @Override
    public int read(char[] buf, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!chars.hasRemaining()) {
            if (flushed) {
                return -1;
            }
            fill();
        }
        int n = Math.min(len, chars.remaining());
        chars.get(buf, off, n);
        return n;
    }

    /**
     * The next line, without its line end, or null at the end of the file. Only '\n' ends a line (a '\r'
     * before it is dropped), so a stray carriage return inside a TSV field stays text, unlike with
     * {@link java.io.BufferedReader#readLine()}.
     */
    String readLine() throws IOException {
        StringBuilder line = null;
        while (true) {
            if (!chars.hasRemaining()) {
                if (flushed) {
                    return line == null ? null : withoutCarriageReturn(line);
                }
                fill();
                continue;
            }
            int start = chars.position();
            int end = chars.limit();
            int newline = start;
            while (newline < end && chars.get(newline) != '\n') {
                newline++;
            }
            if (line == null) {
                line = new StringBuilder(newline - start);
            }
            line.append(chars, 0, newline - start); // CharBuffer.append/subSequence are relative to the position
            if (newline < end) {
                chars.position(newline + 1);
                return withoutCarriageReturn(line);
            }
            chars.position(end);
        }
    }

    private static String withoutCarriageReturn(StringBuilder line) {
        int n = line.length();
        return n > 0 && line.charAt(n - 1) == '\r' ? line.substring(0, n - 1) : line.toString();
    }

    /** Decodes the next chunk of bytes into {@link #chars}; called when every earlier character was read. */
    private void fill() throws IOException {
        chars.clear();
        while (chars.position() == 0 && !flushed) {
            if (!endOfInput) {
                bytes.compact();
                int n = readBytes();
                if (n < 0) {
                    endOfInput = true;
                } else {
                    bytes.position(bytes.position() + n);
                }
                bytes.flip();
            }
            CoderResult r = decoder.decode(bytes, chars, endOfInput);
            if (endOfInput && r.isUnderflow()) {
                r = decoder.flush(chars);
                flushed = !r.isError();
            }
            if (r.isError()) {
                throw invalidBytes(r.length());
            }
        }
        chars.flip();
        if (first && chars.hasRemaining() && chars.get(chars.position()) == '\uFEFF') {
            // A byte order mark is an encoding signature, not text (Excel writes one in "CSV UTF-8").
            chars.get();
        }
        first = false;
        for (int i = chars.position(); i < chars.limit(); i++) {
            if (chars.get(i) == '\n') {
                if (newlineCount == newlines.length) {
                    newlines = Arrays.copyOf(newlines, newlineCount * 2);
                }
                newlines[newlineCount++] = decoded + (i - chars.position());
            }
        }
        decoded += chars.remaining();
    }

    private int readBytes() throws IOException {
        try {
            return in.read(bytes.array(), bytes.position(), bytes.remaining());
        } catch (java.util.zip.ZipException | java.io.EOFException e) {
            throw new DataException(file + ": the gzip data is damaged or cut short (" + e.getMessage()
                    + "); download or compress the file again", e);
        }
    }

    private DataException invalidBytes(int length) {
        StringBuilder hex = new StringBuilder();
        int at = bytes.position();
        for (int i = 0; i < length && at + i < bytes.limit(); i++) {
            hex.append(i == 0 ? "" : " ").append(String.format("0x%02X", bytes.get(at + i) & 0xff));
        }
        long line = newlineCount + 1L;
        for (int i = 0; i < chars.position(); i++) {
            line += chars.get(i) == '\n' ? 1 : 0;
        }
        String hint = charset.equals(StandardCharsets.UTF_8)
                ? "The file is not UTF-8. If it is Latin-1 or Windows-1252 text, read it with --encoding ISO-8859-1"
                        + " (or windows-1252), or re-save it as UTF-8."
                : "Check the file's encoding and set it with --encoding.";
        return new DataException(file + " line " + line + ": bytes " + hex + " are not valid " + charset.name() + ". " + hint);
    }

    /** The 1-based line of a character offset in the decoded text. */
    long lineOf(long charOffset) {
        int lo = 0;
        int hi = newlineCount;
        while (lo < hi) { // number of newlines before charOffset
            int mid = (lo + hi) >>> 1;
            if (newlines[mid] < charOffset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo + 1L;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
