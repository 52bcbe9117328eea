package org.finetune4j.data;

/**
 * A data file or a data option could not be used. The message says what was wrong, where (file, line,
 * column) and what to do next. It is an {@link IllegalArgumentException} because it is the user's input
 * that is wrong, and the command line reports those as one line with exit code 2.
 */
public class DataException extends IllegalArgumentException {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
