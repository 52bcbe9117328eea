package org.finetune4j.io;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Element types of the safetensors format, by the names the format uses in its header. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** Parses a header dtype string; unknown names get an error listing the supported ones. */
    public static DType parse(String name, String where) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        throw new CheckpointException(where + ": unsupported dtype \"" + name + "\". Supported: "
                + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "))
                + ". Convert the checkpoint to one of these (for example float32) and try again.");
    }
}
