package org.finetune4j.io;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

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

        Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

        int munmap(Pointer addr, long length);
    }

    // Linux mmap constants (the same on x86-64 and arm64).
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS_NORESERVE = 0x02 | 0x20 | 0x4000;

    private static final LibC LIBC = load();
    /** Addresses of live mappings from {@link #mapZeroed}, so {@link #unmap} never unmaps anything else. */
    private static final java.util.Map<Long, Long> MAPPED = new java.util.concurrent.ConcurrentHashMap<>();

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

    /**
     * Zeroed memory whose pages become resident only when first written: an anonymous private mapping
     * on Linux (the kernel hands out zero pages on first touch), so a large table of which only a part
     * is ever used costs only that part. Elsewhere, or if the mapping fails, an ordinary direct buffer
     * (zeroed and resident at once). Give it back with {@link #unmap}; the buffer must not be used after.
     */
    public static ByteBuffer mapZeroed(long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a mapping of " + bytes + " bytes is over the 2 GiB of a Java buffer");
        }
        if (LIBC != null && bytes > 0) {
            try {
                Pointer p = LIBC.mmap(null, bytes, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS_NORESERVE, -1, 0);
                if (p != null && Pointer.nativeValue(p) != -1L) {
                    MAPPED.put(Pointer.nativeValue(p), bytes);
                    return p.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder());
                }
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                // fall through to a direct buffer
            }
        }
        return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
    }

    /** Gives back memory from {@link #mapZeroed} (a direct buffer that was not mapped is left to the collector). */
    public static void unmap(ByteBuffer buffer) {
        if (LIBC == null || buffer == null || buffer.capacity() == 0) {
            return;
        }
        Pointer p = Native.getDirectBufferPointer(buffer);
        if (MAPPED.remove(Pointer.nativeValue(p)) != null) {
            LIBC.munmap(p, buffer.capacity());
        }
    }
}
