package org.finetune4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataReaderTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        return write(name, content.getBytes(StandardCharsets.UTF_8));
    }

    private Path write(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    private static void assertMessage(DataException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "message lacks \"" + part + "\": " + e.getMessage());
        }
    }

    // ---- CSV --------------------------------------------------------------------------------------

    @Test
    void csvQuotedFieldsWithCommasQuotesEmbeddedNewlinesAndCrlf() throws IOException {
        Path f = write("train.csv", "id,text,target\r\n"
                + "1,plain text,0\r\n"
                + "2,\"has, a comma and \"\"quotes\"\"\",1\r\n"
                + "3,\"two\nlines\r\nand crlf inside\",0\r\n"
                + "4,last,1\r\n");
        Dataset d = DataReader.read(f, ReadOptions.of("text", "target").withIdColumn("id"));
        assertEquals(4, d.size());
        assertEquals("has, a comma and \"quotes\"", d.get(1).text());
        assertEquals("two\nlines\r\nand crlf inside", d.get(2).text());
        assertEquals(List.of("3", "4"), List.of(d.get(2).id(), d.get(3).id()));
        // Each example knows the line where its record starts, counting the lines inside quoted fields.
        assertEquals(List.of(2L, 3L, 4L, 7L), d.examples().stream().map(Example::line).toList());
        assertEquals(LabelMode.SINGLE, d.labelMode());
        assertEquals(Map.of("0", 2, "1", 2), d.labelCounts());
    }

    @Test
    void utf8ByteOrderMarkIsDropped() throws IOException {
        byte[] body = "text,label\nhéllo,a\n".getBytes(StandardCharsets.UTF_8);
        byte[] withBom = new byte[body.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(body, 0, withBom, 3, body.length);
        Dataset d = DataReader.read(write("bom.csv", withBom), ReadOptions.of("text", "label"));
        assertEquals("héllo", d.get(0).text());
        assertEquals(2L, d.get(0).line());
    }

    @Test
    void invalidUtf8IsReportedWithFileAndLine() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes("coarse_label,text\nLOC,\"a quoted\nfield\"\nLOC,What is the sister".getBytes(StandardCharsets.UTF_8));
        bytes.write(0xF0); // TREC's one Latin-1 byte: "sister\xf0city"
        bytes.writeBytes("city of Milan ?\n".getBytes(StandardCharsets.UTF_8));
        Path f = write("trec.csv", bytes.toByteArray());
        DataException e = assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("text", "coarse_label")));
        assertMessage(e, f.toString(), "line 4", "0xF0", "not valid UTF-8", "ISO-8859-1");
        // The hint works: read as Latin-1, the byte is 'ð'.
        Dataset latin1 = DataReader.read(f, ReadOptions.of("text", "coarse_label").withEncoding(StandardCharsets.ISO_8859_1));
        assertEquals("What is the sisterðcity of Milan ?", latin1.get(1).text());
    }

    @Test
    void invalidUtf8FarIntoALargeFileHasTheRightLine() throws IOException {
        // Past several decoder chunks, with 2-byte characters straddling the chunk boundaries.
        StringBuilder b = new StringBuilder("text,label\n");
        for (int i = 0; i < 20_000; i++) {
            b.append("ééé ").append(i).append(",x\n");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(b.toString().getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes(new byte[] {'b', 'a', 'd', (byte) 0xC3, '(', ',', 'x', '\n'});
        Path f = write("big.csv", bytes.toByteArray());
        DataException e = assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("text", "label")));
        assertMessage(e, "line 20002", "0xC3");

        Files.write(f, b.toString().getBytes(StandardCharsets.UTF_8));
        Dataset d = DataReader.read(f, ReadOptions.of("text", "label"));
        assertEquals(20_000, d.size());
        assertEquals("ééé 19999", d.get(19_999).text());
        assertEquals(20_001L, d.get(19_999).line());
    }

    @Test
    void utf16FileIsRefusedWithAHint() throws IOException {
        Path f = write("u16.csv", "text,label\na,b\n".getBytes(StandardCharsets.UTF_16));
        DataException e = assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("text", "label")));
        assertMessage(e, "UTF-16", "re-save it as UTF-8");
    }

    @Test
    void missingColumnListsTheAvailableOnes() throws IOException {
        Path f = write("tweets.csv", "id,Text,target\n1,hello,0\n");
        DataException e = assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("text", "target")));
        assertMessage(e, f.toString(), "header, line 1", "no text column 'text'", "'id', 'Text', 'target'",
                "Did you mean 'Text'", "--text-column");
        DataException label = assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("Text", "label")));
        assertMessage(label, "no label column 'label'", "--label-column");
    }

    @Test
    void emptyFileAndHeaderOnlyFileAreErrors() throws IOException {
        Path empty = write("empty.csv", "");
        assertMessage(assertThrows(DataException.class, () -> DataReader.read(empty, ReadOptions.of("text", "label"))),
                empty.toString(), "no data rows");
        Path headerOnly = write("header.csv", "text,label\r\n\r\n");
        assertMessage(assertThrows(DataException.class, () -> DataReader.read(headerOnly, ReadOptions.of("text", "label"))),
                "no data rows (at most a header line)");
    }

    @Test
    void raggedCsvRowNamesLineAndColumns() throws IOException {
        Path f = write("ragged.csv", "text,label\nfine,1\nan, unquoted comma,0\n");
        DataException e = assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("text", "label")));
        assertMessage(e, f + " line 3", "3 fields", "2 columns ('text', 'label')", "double quotes");
    }

    @Test
    void unclosedQuoteIsReportedNearItsLine() throws IOException {
        Path f = write("quote.csv", "text,label\nok,1\n\"never closed,0\nmore,1\n");
        DataException e = assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("text", "label")));
        assertMessage(e, f.toString(), "near line 3", "--format tsv");
    }

    @Test
    void emptyLabelAndNonIntegerLabelAreErrors() throws IOException {
        Path f = write("labels.csv", "text,label\na,1\nb,\n");
        assertMessage(assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("text", "label"))),
                f + " line 3", "label column 'label' is empty");
        Path g = write("shifted.csv", "text,label\na,1\nb,positive\n");
        assertEquals(2, DataReader.read(g, ReadOptions.of("text", "label")).size());
        DataException e = assertThrows(DataException.class,
                () -> DataReader.read(g, ReadOptions.of("text", "label").withIntegerLabels(true)));
        assertMessage(e, g + " line 3", "'positive', which is not an integer");
    }

    @Test
    void labelsAreTrimmedAndTextIsKeptAsWritten() throws IOException {
        Path f = write("spaces.csv", "text,label\n  padded text  , 1 \n");
        Example e = DataReader.read(f, ReadOptions.of("text", "label")).get(0);
        assertEquals("  padded text  ", e.text());
        assertEquals(List.of("1"), e.labels());
    }

    @Test
    void multiLabelColumnIsSplitAtTheSeparator() throws IOException {
        Path f = write("multi.csv", "text,tags\na,sports|politics\nb,\nc,sports| sports |\n");
        Dataset d = DataReader.read(f, ReadOptions.of("text", "tags").withLabelSeparator("|"));
        assertEquals(LabelMode.MULTI, d.labelMode());
        assertEquals(List.of("sports", "politics"), d.get(0).labels());
        assertEquals(List.of(), d.get(1).labels());
        assertEquals(List.of("sports"), d.get(2).labels());
    }

    @Test
    void unlabelledDataAndDefaultIdsAreRowNumbers() throws IOException {
        Path f = write("test.csv", "id,text\n17,a\n18,b\n");
        Dataset d = DataReader.read(f, ReadOptions.of("text", null));
        assertEquals(LabelMode.UNLABELLED, d.labelMode());
        assertEquals(List.of("0", "1"), List.of(d.get(0).id(), d.get(1).id()));
        assertEquals(List.of(), d.get(0).labels());
    }

    @Test
    void textPairColumn() throws IOException {
        Path f = write("nli.csv", "premise,hypothesis,label\nA man sleeps.,A person rests.,entailment\n");
        Example e = DataReader.read(f, ReadOptions.of("premise", "label").withTextPairColumn("hypothesis")).get(0);
        assertEquals("A person rests.", e.textPair());
    }

    @Test
    void gzipIsDecompressedAndTheFormatComesFromTheNameBeforeGz() throws IOException {
        Path f = dir.resolve("train.csv.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(f))) {
            out.write("review,sentiment\n\"Great, really.<br /><br />Go.\",positive\n".getBytes(StandardCharsets.UTF_8));
        }
        Dataset d = DataReader.read(f, ReadOptions.of("review", "sentiment"));
        assertEquals("Great, really.<br /><br />Go.", d.get(0).text());
        Path damaged = write("cut.csv.gz", java.util.Arrays.copyOf(Files.readAllBytes(f), 20));
        assertMessage(assertThrows(DataException.class, () -> DataReader.read(damaged, ReadOptions.of("review", "sentiment"))),
                "gzip data is damaged or cut short");
    }

    @Test
    void formatThatCannotBeDetectedAsksForIt() throws IOException {
        Path f = write("SMSSpamCollection", "ham\thello\n");
        assertMessage(assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("text", "label"))),
                "no extension", "--format");
        Path missing = dir.resolve("nope.csv");
        assertMessage(assertThrows(DataException.class, () -> DataReader.read(missing, ReadOptions.of("text", "label"))),
                "no such file");
    }

    // ---- TSV --------------------------------------------------------------------------------------

    @Test
    void tsvWithoutHeaderSplitsAtTheFirstTabAndKeepsQuotes() throws IOException {
        Path f = write("SMSSpamCollection", "spam\tFREE entry\tnow!\n"
                + "ham\tHe said \"hi\n"
                + "ham\t\"quoted\" and \"unbalanced\r\n"
                + "ham\ta stray\rcarriage return");
        Dataset d = DataReader.read(f, ReadOptions.of("text", "label").withFormat(Format.TSV).withoutHeader("label", "text"));
        assertEquals(4, d.size());
        assertEquals("FREE entry\tnow!", d.get(0).text());
        assertEquals("He said \"hi", d.get(1).text());
        assertEquals("\"quoted\" and \"unbalanced", d.get(2).text());
        assertEquals("a stray\rcarriage return", d.get(3).text()); // only \n ends a line
        assertEquals(List.of("spam", "ham", "ham", "ham"), d.examples().stream().map(Example::label).toList());
        assertEquals(4L, d.get(3).line());
    }

    @Test
    void tsvWithHeaderAndPositionalNamesWithoutHeader() throws IOException {
        Path f = write("dev.tsv", "sentence\tlabel\nit 's a charming journey . \t1\n\nawful .\t0\n");
        Dataset d = DataReader.read(f, ReadOptions.of("sentence", "label"));
        assertEquals(2, d.size());
        assertEquals("it 's a charming journey . ", d.get(0).text());
        assertEquals(4L, d.get(1).line());

        Path g = write("noheader.tsv", "1\tgood\n0\tbad\n");
        Dataset positional = DataReader.read(g, ReadOptions.of("1", "0").withoutHeader().withIntegerLabels(true));
        assertEquals("bad", positional.get(1).text());
        DataException e = assertThrows(DataException.class, () -> DataReader.read(g, ReadOptions.of("text", "0").withoutHeader()));
        assertMessage(e, "no text column 'text'", "'0', '1'");
    }

    @Test
    void raggedTsvRow() throws IOException {
        Path f = write("short.tsv", "sentence\tlabel\nfine\t1\nno tab here\n");
        DataException e = assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("sentence", "label")));
        assertMessage(e, f + " line 3", "1 field but there are 2 columns", "tab");
    }

    // ---- JSON Lines --------------------------------------------------------------------------------

    @Test
    void jsonLines() throws IOException {
        Path f = write("data.jsonl", "{\"id\": 7, \"q\": \"Who?\", \"p\": \"Me.\", \"label\": 1}\n\n"
                + "{\"id\": 8, \"q\": \"Line\\nbreak\", \"p\": \"x\", \"label\": \"0\"}\n");
        Dataset d = DataReader.read(f, ReadOptions.of("q", "label").withTextPairColumn("p").withIdColumn("id"));
        assertEquals(2, d.size());
        assertEquals("7", d.get(0).id());
        assertEquals("Me.", d.get(0).textPair());
        assertEquals("Line\nbreak", d.get(1).text());
        assertEquals(List.of("1", "0"), d.examples().stream().map(Example::label).toList());
        assertEquals(3L, d.get(1).line());
    }

    @Test
    void jsonLinesMultiLabelArrays() throws IOException {
        Path f = write("multi.jsonl", "{\"text\": \"a\", \"labels\": [\"x\", \"y\"]}\n{\"text\": \"b\", \"labels\": []}\n");
        Dataset d = DataReader.read(f, ReadOptions.of("text", "labels").withLabelSeparator(","));
        assertEquals(List.of("x", "y"), d.get(0).labels());
        assertEquals(List.of(), d.get(1).labels());
        DataException e = assertThrows(DataException.class, () -> DataReader.read(f, ReadOptions.of("text", "labels")));
        assertMessage(e, "line 1", "is a list", "--label-separator");
    }

    @Test
    void jsonLinesErrorsNameTheLine() throws IOException {
        Path bad = write("bad.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 1\n");
        assertMessage(assertThrows(DataException.class, () -> DataReader.read(bad, ReadOptions.of("text", "label"))),
                bad + " line 2", "not valid JSON");
        Path missing = write("missing.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"sentence\": \"b\", \"label\": 0}\n");
        assertMessage(assertThrows(DataException.class, () -> DataReader.read(missing, ReadOptions.of("text", "label"))),
                missing + " line 2", "no text field 'text'", "'sentence', 'label'");
        Path array = write("array.json", "[{\"text\": \"a\", \"label\": 1}]\n");
        assertMessage(assertThrows(DataException.class, () -> DataReader.read(array, ReadOptions.of("text", "label"))),
                "line 1", "one JSON array");
        Path nulls = write("null.jsonl", "{\"text\": null, \"label\": 1}\n");
        assertMessage(assertThrows(DataException.class, () -> DataReader.read(nulls, ReadOptions.of("text", "label"))),
                "line 1", "'text' is null");
        assertNull(DataReader.read(write("ok.jsonl", "{\"text\": \"a\"}\n"), ReadOptions.of("text", null)).get(0).textPair());
    }

    @Test
    void optionsAreValidated() {
        assertThrows(DataException.class, () -> ReadOptions.of(" ", "label"));
        assertThrows(DataException.class, () -> ReadOptions.of("text", "label").withLabelSeparator(""));
        assertEquals(Format.TSV, Format.parse("tsv"));
        assertMessage(assertThrows(DataException.class, () -> Format.parse("xlsx")), "csv, tsv or jsonl");
    }
}
