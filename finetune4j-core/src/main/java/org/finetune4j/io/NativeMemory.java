package org.finetune4j.io;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Gives libtorch's freed memory back to the operating system. With the launcher's malloc settings
 * (one arena, no trimming, so steps do not churn mmap), memory freed after a phase that needed more
 * than a training step (model import, an evaluation) would otherwise stay resident. glibc's
 * {@code malloc_trim(0)} releases the free pages inside the heap as well as its top. A no-op where
 * glibc is not the C library.
 */
public final class NativeMemory {
    private NativeMemory() {
    }

    private interface LibC extends Library {
        int malloc_trim(long pad);
    }

    private static final LibC LIBC = load();

    private static LibC load() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            return null;
        }
        try {
            return Native.load("c", LibC.class);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return null;
        }
    }

    /** Returns free heap pages to the OS; true if anything was released. */
    public static boolean trim() {
        if (LIBC == null) {
            return false;
        }
        try {
            return LIBC.malloc_trim(0) == 1;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return false;
        }
    }
}
