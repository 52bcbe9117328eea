package org.finetune4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.testing.SharedData;
import org.junit.jupiter.api.Test;

class TextCleanerTest {
    private static final TextCleaner NOTEBOOK = TextCleaner.DISASTER_TWEETS_NOTEBOOK;

    /** Expected values are the output of seed 000's Python code (split/lower/join, then clean()) on these tweets. */
    @Test
    void reproducesTheDisasterTweetsNotebook() {
        assertEquals("our deeds are the reason of this earthquake may allah forgive us all",
                NOTEBOOK.clean("Our Deeds are the Reason of this #earthquake May ALLAH Forgive us all"));
        assertEquals("bbcmtd wholesale markets ablaze ", NOTEBOOK.clean("@bbcmtd Wholesale Markets ablaze http://t.co/lHYXEOHY6C"));
        assertEquals("barbados bridgetown jamaica \u0089ûò two cars set ablaze santa cruz \u0089ûó head of the st elizabeth"
                        + " police superintende... ",
                NOTEBOOK.clean("Barbados #Bridgetown JAMAICA \u0089ÛÒ Two cars set ablaze: SANTA CRUZ \u0089ÛÓ Head of the"
                        + " St Elizabeth Police Superintende...  http://t.co/wDUEaj8Q4J"));
        assertEquals(".norwaymfa bahrain police had previously died in a road accident they were not killed by explosion ",
                NOTEBOOK.clean(".@NorwayMFA #Bahrain police had previously died in a road accident they were not killed by"
                        + " explosion https://t.co/gFJfgTodad"));
        assertEquals("the latest more homes razed by northern california wildfire  abc news ",
                NOTEBOOK.clean("The Latest: More Homes Razed by Northern California Wildfire - ABC News http://t.co/YmY4rSkQ3d"));
        // Whitespace is folded first (Python's str.split(): tabs, newlines, no-break space), then the removals.
        assertEquals("a b c", NOTEBOOK.clean("  A\tb\n\u00a0 C \r\n"));
        // The notebook's regex only knows t.co links, and is case-sensitive after lower-casing: "HTTP" is lowered first.
        assertEquals("see httpsexample.compath and ", NOTEBOOK.clean("see https://example.com/path and HTTP://t.co/AbC9"));
    }

    /** All 7,613 training tweets, compared with the notebook's output by digest (computed with its Python code). */
    @Test
    @NeedsSharedData
    void matchesTheNotebookOnEveryTrainingTweet() throws Exception {
        Dataset d = DataReader.read(SharedData.require("data/disaster-tweets/train.csv"), ReadOptions.of("text", "target"));
        List<String> cleaned = new ArrayList<>();
        for (Example e : NOTEBOOK.clean(d).examples()) {
            cleaned.add(e.text());
        }
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(String.join("\n", cleaned).getBytes(StandardCharsets.UTF_8));
        assertEquals("448a47b34f70d4f9d958042603ca19acc9e7e967de144b1d62a66e7d05077477", HexFormat.of().formatHex(digest));
    }

    @Test
    void htmlStepsAndGeneralUrls() {
        TextCleaner imdb = new TextCleaner(true, true, true, false, TextCleaner.ANY_URL, "");
        assertEquals("Great film. I loved it & so did \"she\" - it's <10/10>",
                imdb.clean("Great film.<br /><br />I loved it &amp; so did &quot;she&quot; -<BR>it&#39;s &lt;10/10&gt;"));
        // Whitespace was folded before the URLs went, as in the notebook; the tokenizer ignores the extra spaces.
        assertEquals("go to   now", imdb.clean("go to https://a.example/x?y=1 www.b.example now"));
        // Unknown entities and AG News' '#36;' (its '&' was lost upstream) stay as written.
        assertEquals("&bogus; #36;", imdb.clean("&bogus; #36;"));
        assertEquals("&#x1F600; = \uD83D\uDE00", new TextCleaner(false, false, false, false, null, "")
                .clean("&#x1F600; = \uD83D\uDE00"));
        assertEquals("\uD83D\uDE00", TextCleaner.unescapeHtml("&#x1F600;"));
    }

    @Test
    void stepsRunInTheDocumentedOrder() {
        // Lower-casing runs before URL removal, and character removal after it (the URL still has its '/').
        TextCleaner c = new TextCleaner(false, false, false, true, "https://x\\.io/[a-z]+", "/:");
        assertEquals("a  b", c.clean("A HTTPS://X.IO/ABC b"));
        assertEquals("a httpy.ioabc b", c.clean("A http://y.io/abc b"));
    }

    @Test
    void noCleaningKeepsTheSameDatasetAndBadRegexIsAnError() {
        Dataset d = new Dataset("x", List.of(new Example("0", " A ", null, List.of("1"), 2)), LabelMode.SINGLE);
        assertSame(d, TextCleaner.NONE.clean(d));
        assertThrows(DataException.class, () -> new TextCleaner(false, false, false, false, "(", ""));
    }

    @Test
    void cleansTextPairsToo() {
        TextCleaner lower = new TextCleaner(false, false, false, true, null, "");
        Example e = lower.clean(new Dataset("x", List.of(new Example("0", "A", "B", List.of("1"), 2)), LabelMode.SINGLE)).get(0);
        assertEquals("a", e.text());
        assertEquals("b", e.textPair());
        assertEquals(List.of("1"), e.labels());
    }
}
