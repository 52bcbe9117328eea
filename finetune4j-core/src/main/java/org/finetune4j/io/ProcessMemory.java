package org.finetune4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's resident memory as Linux reports it in /proc/self/status (VmRSS, VmHWM = peak). */
public final class ProcessMemory {
    private ProcessMemory() {
    }

    /** Peak resident set size in bytes, or -1 where /proc is not available. */
    public static long peakRssBytes() {
        return read("VmHWM:");
    }

    /** Current resident set size in bytes, or -1. */
    public static long rssBytes() {
        return read("VmRSS:");
    }

    private static long read(String key) {
        return read(Path.of("/proc/self/status"), key);
    }

    /** A kB field of a /proc status file (another process's, for org.finetune4j.api.ChildJvm), in bytes; -1 if unreadable. */
    public static long read(Path status, String key) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(key)) {
                    String[] parts = line.substring(key.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024; // kB
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
