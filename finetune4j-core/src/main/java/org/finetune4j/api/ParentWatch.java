package org.finetune4j.api;

import java.util.Optional;

/**
 * Ends a child JVM whose parent has died. {@link ChildJvm} gives every child the parent's process id as
 * {@value #PARENT_PID}; a child main that calls {@link #start} then checks every {@link #POLL_MILLIS} ms that
 * this parent is still alive, and halts when it is not.
 *
 * <p>Why: a parent killed with {@code kill -9} runs no shutdown hook and cannot stop its children, which
 * would otherwise go on as orphans. A tuning trial orphaned that way would keep writing into its
 * {@code trial-<n>} while {@code tune --resume} runs the same trial again into the same directory.
 * {@link ProcessHandle#isAlive} compares the process's start time too, so a reused pid is not mistaken for the
 * parent.
 */
public final class ParentWatch {
    /** The system property holding the parent's pid. */
    public static final String PARENT_PID = "finetune4j.parent.pid";
    /** How often the parent is looked for. */
    static final long POLL_MILLIS = 500;
    /** The exit status of a child that stopped because its parent was gone. */
    public static final int ORPHANED_EXIT = 3;

    private ParentWatch() {
    }

    /**
     * Starts watching the parent named by {@value #PARENT_PID}, if any (a JVM a user started has none and is left
     * alone). Halts at once when that parent is already gone.
     */
    public static void start() {
        String value = System.getProperty(PARENT_PID);
        if (value == null || value.isBlank()) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + PARENT_PID + "=" + value + " is not a process id");
        }
        Optional<ProcessHandle> parent = ProcessHandle.of(pid);
        if (parent.isEmpty() || !parent.get().isAlive()) {
            orphaned(pid);
        }
        Thread t = new Thread(() -> watch(parent.get()), "parent-watch");
        t.setDaemon(true);
        t.start();
    }

    private static void watch(ProcessHandle parent) {
        while (parent.isAlive()) {
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
        orphaned(parent.pid());
    }

    /** Stops now, as a kill would: whatever this JVM writes must survive that anyway. */
    private static void orphaned(long pid) {
        System.err.println("finetune4j: the parent process " + pid + " is gone; stopping this child process");
        Runtime.getRuntime().halt(ORPHANED_EXIT);
    }
}
