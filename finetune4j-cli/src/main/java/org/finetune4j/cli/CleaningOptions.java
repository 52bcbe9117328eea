package org.finetune4j.cli;

import org.finetune4j.data.TextCleaner;
import picocli.CommandLine.Option;

/** Text cleaning steps the notebooks use (shared by train and stats). */
final class CleaningOptions {
    @Option(names = "--clean", description = "A preset: none, or tweets (the disaster-tweets notebook: fold whitespace,"
            + " lower-case, drop t.co links and the characters @#!?+&*[]-%%:/()$=><|{}^).")
    String preset;

    @Option(names = "--lowercase", description = "Lower-case the texts.")
    boolean lowercase;

    @Option(names = "--remove-urls", description = "Remove http(s):// and www. links.")
    boolean removeUrls;

    @Option(names = "--remove-chars", description = "Remove each of these characters.")
    String removeChars;

    @Option(names = "--html", description = "Decode HTML entities (&amp; ...) and turn <br /> into spaces.")
    boolean html;

    @Option(names = "--fold-whitespace", description = "Collapse runs of whitespace and trim.")
    boolean foldWhitespace;

    TextCleaner toCleaner() {
        if (preset != null) {
            if (lowercase || removeUrls || removeChars != null || html || foldWhitespace) {
                throw new UserError("--clean " + preset + " cannot be combined with individual cleaning options");
            }
            return switch (preset) {
                case "none" -> TextCleaner.NONE;
                case "tweets" -> TextCleaner.DISASTER_TWEETS_NOTEBOOK;
                default -> throw new UserError("--clean must be none or tweets, got " + preset);
            };
        }
        return new TextCleaner(html, html, foldWhitespace, lowercase, removeUrls ? TextCleaner.ANY_URL : null,
                removeChars == null ? "" : removeChars);
    }
}
