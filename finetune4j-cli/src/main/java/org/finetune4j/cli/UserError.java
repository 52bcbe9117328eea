package org.finetune4j.cli;

/** A mistake in the command line or its inputs; the message says what to do. Exit code 2. */
public final class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }
}
