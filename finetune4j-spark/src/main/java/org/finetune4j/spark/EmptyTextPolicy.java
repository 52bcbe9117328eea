package org.finetune4j.spark;

import java.util.Locale;

/**
 * What a text stage does with a null or empty (blank) text: {@link #SKIP} gives the row null outputs (the
 * model never sees it), {@link #FAIL} stops the task with an error naming the partition and row.
 */
enum EmptyTextPolicy {
    SKIP,
    FAIL;

    static final String[] IDS = {"skip", "fail"};

    static EmptyTextPolicy parse(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }

    /** A null, empty or whitespace-only text. */
    static boolean isEmpty(String text) {
        return text == null || text.isBlank();
    }
}
