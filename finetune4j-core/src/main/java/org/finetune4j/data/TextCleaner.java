package org.finetune4j.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Optional text cleaning, as the notebooks do it before tokenising. A pure function of the text.
 *
 * <p>The steps run in this order (each only when enabled):
 * <ol>
 *   <li>{@code replaceHtmlBreaks}: {@code <br>}, {@code <br/>}, {@code <br />} (any case) become a space
 *       (IMDB reviews hold 29,200 {@code <br /><br />});
 *   <li>{@code htmlUnescape}: {@code &amp; &lt; &gt; &quot; &apos; &nbsp;} and numeric references
 *       ({@code &#39; &#x27;}) become their characters (tweets and SMS hold {@code &amp;}, {@code &lt;});
 *   <li>{@code foldWhitespace}: runs of whitespace become one space, with none at either end, as Python's
 *       {@code " ".join(s.split())} (same whitespace set as {@code str.split()});
 *   <li>{@code lowercase}: {@code toLowerCase(Locale.ROOT)}, as Python's {@code str.lower()};
 *   <li>{@code urlRegex}: every match is removed;
 *   <li>{@code removeChars}: each of these characters is removed wherever it occurs.
 * </ol>
 * With {@link #DISASTER_TWEETS_NOTEBOOK} this is exactly seed 000's preprocessing: split/lower/join, then
 * {@code clean()} (URL regex, then the special characters). As there, whitespace is folded before the
 * removals, so removing a word between two spaces leaves two spaces; BERT's pre-tokenizer splits on any
 * run of whitespace, so this changes no token.
 *
 * @param replaceHtmlBreaks replace HTML line breaks by a space
 * @param htmlUnescape decode HTML character references
 * @param foldWhitespace collapse whitespace runs and trim
 * @param lowercase lower-case the text (only useful for cased models or to merge duplicates: uncased
 *     tokenizers lower-case anyway)
 * @param urlRegex a regular expression for the URLs to remove, or null to keep them; see {@link #ANY_URL}
 *     and {@link #TWITTER_SHORT_URL}
 * @param removeChars characters to delete, or the empty string
 */
public record TextCleaner(boolean replaceHtmlBreaks, boolean htmlUnescape, boolean foldWhitespace, boolean lowercase,
                          String urlRegex, String removeChars) {

    private static final Pattern HTML_BREAK = Pattern.compile("(?i)<br\\s*/?>");
    private static final Pattern HTML_REFERENCE = Pattern.compile("&(?:#(\\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));");
    private static final Map<String, String> HTML_ENTITIES = Map.of(
            "amp", "&", "lt", "<", "gt", ">", "quot", "\"", "apos", "'", "nbsp", "\u00a0");
    /** URL patterns by source (a record cannot hold a derived field; initialised before the constants below). */
    private static final Map<String, Pattern> COMPILED = new ConcurrentHashMap<>();

    /** http(s) or www. up to the next whitespace. */
    public static final String ANY_URL = "(?:https?://|www\\.)\\S+";
    /** Seed 000's regex, kept verbatim (its unescaped '.' matches any character): Twitter's t.co links. */
    public static final String TWITTER_SHORT_URL = "https?:\\/\\/t.co\\/[A-Za-z0-9]+";
    /** Seed 000's {@code Special} string. */
    public static final String NOTEBOOK_SPECIAL_CHARS = "@#!?+&*[]-%:/()$=><|{}^";

    /** No cleaning: text as read. */
    public static final TextCleaner NONE = new TextCleaner(false, false, false, false, null, "");
    /** Seed 000 (disaster tweets): fold whitespace, lower-case, remove t.co links, remove its special characters. */
    public static final TextCleaner DISASTER_TWEETS_NOTEBOOK =
            new TextCleaner(false, false, true, true, TWITTER_SHORT_URL, NOTEBOOK_SPECIAL_CHARS);


    public TextCleaner {
        removeChars = removeChars == null ? "" : removeChars;
        if (urlRegex != null) {
            try {
                COMPILED.computeIfAbsent(urlRegex, Pattern::compile);
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new DataException("the URL pattern is not a valid regular expression: " + e.getDescription()
                        + " at index " + e.getIndex() + " of " + urlRegex);
            }
        }
    }

    public boolean isNoop() {
        return !replaceHtmlBreaks && !htmlUnescape && !foldWhitespace && !lowercase && urlRegex == null && removeChars.isEmpty();
    }

    public String clean(String text) {
        if (text == null) {
            return null;
        }
        String s = text;
        if (replaceHtmlBreaks) {
            s = HTML_BREAK.matcher(s).replaceAll(" ");
        }
        if (htmlUnescape) {
            s = unescapeHtml(s);
        }
        if (foldWhitespace) {
            s = foldWhitespace(s);
        }
        if (lowercase) {
            s = s.toLowerCase(Locale.ROOT);
        }
        if (urlRegex != null) {
            s = COMPILED.computeIfAbsent(urlRegex, Pattern::compile).matcher(s).replaceAll("");
        }
        if (!removeChars.isEmpty()) {
            s = removeChars(s, removeChars);
        }
        return s;
    }

    /** Cleans the text and pair of every example; labels, ids and lines are kept. */
    public Dataset clean(Dataset data) {
        if (isNoop()) {
            return data;
        }
        List<Example> out = new ArrayList<>(data.size());
        for (Example e : data.examples()) {
            out.add(e.withText(clean(e.text()), clean(e.textPair())));
        }
        return data.withExamples(out);
    }

    /** Python's {@code " ".join(s.split())}. */
    static String foldWhitespace(String s) {
        StringBuilder b = new StringBuilder(s.length());
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && isPythonSpace(s.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !isPythonSpace(s.charAt(i))) {
                i++;
            }
            if (i > start) {
                if (b.length() > 0) {
                    b.append(' ');
                }
                b.append(s, start, i);
            }
        }
        return b.toString();
    }

    /** The characters Python's {@code str.isspace()} (and so {@code str.split()}) treats as whitespace. */
    static boolean isPythonSpace(char c) {
        return c == ' ' || c >= '\t' && c <= '\r' || c >= '\u001c' && c <= '\u001f' || c == '\u0085' || c == '\u00a0'
                || c == '\u1680' || c >= '\u2000' && c <= '\u200a' || c == '\u2028' || c == '\u2029' || c == '\u202f'
                || c == '\u205f' || c == '\u3000';
    }

    private static String removeChars(String s, String chars) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (chars.indexOf(c) < 0) {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Decodes the common named references and all numeric ones; anything else is left as written. */
    static String unescapeHtml(String s) {
        if (s.indexOf('&') < 0) {
            return s;
        }
        Matcher m = HTML_REFERENCE.matcher(s);
        StringBuilder b = new StringBuilder(s.length());
        while (m.find()) {
            String replacement = m.group();
            if (m.group(3) != null) {
                replacement = HTML_ENTITIES.getOrDefault(m.group(3), m.group());
            } else {
                int code = m.group(1) != null ? Integer.parseInt(m.group(1)) : Integer.parseInt(m.group(2), 16);
                if (Character.isValidCodePoint(code) && code != 0) {
                    replacement = new String(Character.toChars(code));
                }
            }
            m.appendReplacement(b, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(b);
        return b.toString();
    }
}
