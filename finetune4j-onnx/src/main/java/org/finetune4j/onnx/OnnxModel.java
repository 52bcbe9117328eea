package org.finetune4j.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.DType;
import org.finetune4j.io.HostTensor;

/**
 * The parts of an ONNX {@code ModelProto} that weight import needs: the graph's nodes (op type, inputs,
 * outputs, attributes), its initializers, and its inputs and outputs. The protobuf wire format is read
 * field by field with {@link CodedInputStream}, by the field numbers of onnx.proto
 * (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto); fields not listed there are skipped.
 *
 * <p>Tensor data is kept as little-endian bytes in the layout safetensors uses, whichever of raw_data or
 * the typed fields (float_data, int32_data, int64_data, double_data) held it. raw_data aliases the bytes
 * the model was read from, so reading a 130 MB export costs the file's size once.
 */
public final class OnnxModel {

    // onnx.proto TensorProto.DataType
    static final int FLOAT = 1;
    static final int UINT8 = 2;
    static final int INT8 = 3;
    static final int INT16 = 5;
    static final int INT32 = 6;
    static final int INT64 = 7;
    static final int BOOL = 9;
    static final int FLOAT16 = 10;
    static final int DOUBLE = 11;
    static final int BFLOAT16 = 16;

    /**
     * An initializer, or the value of a Constant node or tensor attribute.
     *
     * @param dataType TensorProto.DataType (1 float, 7 int64, ...)
     * @param data the values as little-endian bytes, {@code numel * elementSize} long
     */
    public record Tensor(String name, int dataType, long[] dims, ByteBuffer data) {
        public Tensor {
            dims = dims.clone();
            data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
        }

        @Override
        public long[] dims() {
            return dims.clone();
        }

        public long numel() {
            return HostTensor.numel(dims);
        }

        /** The same values as a {@link HostTensor} (no copy). */
        public HostTensor toHost() {
            return new HostTensor(dtype(dataType, "ONNX tensor \"" + name + "\""), dims, data);
        }

        /** Floating-point values as float32. */
        public float[] floats() {
            return toHost().toFloats();
        }

        /** Integer values (int64, int32, ...) as longs. */
        public long[] longs() {
            return toHost().toLongs();
        }

        @Override
        public String toString() {
            return name + " " + dataTypeName(dataType) + Arrays.toString(dims);
        }
    }

    /**
     * A node attribute (AttributeProto); only the fields for its {@code type} are meaningful.
     *
     * @param type AttributeProto.AttributeType: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS
     */
    public record Attribute(String name, int type, float f, long i, String s, Tensor t, float[] floats, long[] ints) {
    }

    /** A node (NodeProto). An empty input name means an optional input that was left out. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs,
            Map<String, Attribute> attributes) {
        public Node {
            inputs = List.copyOf(inputs);
            outputs = List.copyOf(outputs);
            attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        }

        public String input(int i) {
            return i < inputs.size() ? inputs.get(i) : "";
        }

        public Attribute attribute(String attrName) {
            return attributes.get(attrName);
        }

        @Override
        public String toString() {
            return opType + (name.isEmpty() ? "" : " \"" + name + "\"") + " " + inputs + " -> " + outputs;
        }
    }

    /**
     * A graph input or output (ValueInfoProto).
     *
     * @param elemType the tensor's TensorProto.DataType, 0 when not given
     * @param dims the shape; -1 for a symbolic dimension (such as "batch_size"), empty when not given
     */
    public record ValueInfo(String name, int elemType, long[] dims) {
        public ValueInfo {
            dims = dims.clone();
        }

        @Override
        public long[] dims() {
            return dims.clone();
        }
    }

    private final String source;
    private final long irVersion;
    private final long opsetVersion;
    private final String producer;
    private final List<Node> nodes;
    private final Map<String, Tensor> initializers;
    private final List<ValueInfo> inputs;
    private final List<ValueInfo> outputs;
    private final Map<String, Node> producers = new HashMap<>();
    private final Map<String, List<Node>> consumers = new HashMap<>();

    private OnnxModel(String source, long irVersion, long opsetVersion, String producer, List<Node> nodes,
            Map<String, Tensor> initializers, List<ValueInfo> inputs, List<ValueInfo> outputs) {
        this.source = source;
        this.irVersion = irVersion;
        this.opsetVersion = opsetVersion;
        this.producer = producer;
        this.nodes = List.copyOf(nodes);
        this.initializers = Collections.unmodifiableMap(initializers);
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        for (Node n : this.nodes) {
            n.outputs().forEach(o -> producers.put(o, n));
            n.inputs().stream().distinct().forEach(i -> consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n));
        }
    }

    /** Reads an .onnx file; a truncated or non-ONNX file is a {@link CheckpointException} naming it. */
    public static OnnxModel read(Path file) {
        byte[] bytes;
        try {
            if (Files.size(file) > Integer.MAX_VALUE - 8) {
                throw new CheckpointException(file + ": the file is over 2 GB. ONNX keeps weights this large in external"
                        + " data files, which this importer does not read; export the model with its weights inside the .onnx file.");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": file not found. Check the path to the .onnx file.");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return read(bytes, file.toString());
    }

    /**
     * Parses a serialized ModelProto. The returned model's tensors share {@code bytes}; do not modify it.
     *
     * @param source where the bytes came from (a file or a resource), for error messages
     */
    public static OnnxModel read(byte[] bytes, String source) {
        Parser parser = new Parser(source);
        try {
            return parser.model(bytes);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String why = e instanceof InvalidProtocolBufferException ? e.getMessage() : e.toString();
            if (why.contains("input ended unexpectedly")) {
                why = "the data ends in the middle of a field";
            }
            throw new CheckpointException(source + ": not a valid ONNX model: " + why.replaceAll("\\.+$", "")
                    + " (at byte " + parser.position() + " of " + bytes.length + "). The file is truncated, or not an"
                    + " .onnx export at all; download or export it again.");
        }
    }

    public String source() {
        return source;
    }

    public long irVersion() {
        return irVersion;
    }

    /** The version of the default ("ai.onnx") operator set, or 0 when the model does not say. */
    public long opsetVersion() {
        return opsetVersion;
    }

    /** producer_name and producer_version, e.g. "pytorch 2.0.1". */
    public String producer() {
        return producer;
    }

    public List<Node> nodes() {
        return nodes;
    }

    /** Initializers by name, in file order. */
    public Map<String, Tensor> initializers() {
        return initializers;
    }

    /** The graph's real inputs (initializers that older exporters also list as inputs are left out). */
    public List<ValueInfo> inputs() {
        return inputs;
    }

    public List<ValueInfo> outputs() {
        return outputs;
    }

    public List<String> inputNames() {
        return inputs.stream().map(ValueInfo::name).toList();
    }

    /** The node that computes {@code value}, or null for a graph input, an initializer or an unknown name. */
    public Node producer(String value) {
        return producers.get(value);
    }

    /** The nodes that read {@code value}, in graph order. */
    public List<Node> consumers(String value) {
        return consumers.getOrDefault(value, List.of());
    }

    /** The tensor a value always has: an initializer, or a Constant node's output; otherwise null. */
    public Tensor constant(String value) {
        Tensor t = initializers.get(value);
        if (t != null) {
            return t;
        }
        Node p = producers.get(value);
        return p == null ? null : constantValue(p);
    }

    /** The tensor of a Constant node (its "value" attribute), or null when {@code node} is no such node. */
    public static Tensor constantValue(Node node) {
        if (!node.opType().equals("Constant")) {
            return null;
        }
        Attribute value = node.attribute("value");
        return value != null && value.t() != null ? value.t() : null;
    }

    // ---------------------------------------------------------------------------------------------
    // Element types

    /** The safetensors element type of an ONNX data type; other types are an error naming {@code where}. */
    static DType dtype(int dataType, String where) {
        return switch (dataType) {
            case FLOAT -> DType.F32;
            case UINT8 -> DType.U8;
            case INT8 -> DType.I8;
            case INT16 -> DType.I16;
            case INT32 -> DType.I32;
            case INT64 -> DType.I64;
            case BOOL -> DType.BOOL;
            case FLOAT16 -> DType.F16;
            case DOUBLE -> DType.F64;
            case BFLOAT16 -> DType.BF16;
            default -> throw new CheckpointException(where + " has data type " + dataTypeName(dataType) + ", which cannot be imported (supported: float, float16, bfloat16, double,"
                    + " int8/16/32/64, uint8, bool)");
        };
    }

    /** float, float16, bfloat16 or double. */
    static boolean isFloatingPoint(int dataType) {
        return dataType == FLOAT || dataType == FLOAT16 || dataType == BFLOAT16 || dataType == DOUBLE;
    }

    /** A signed or unsigned integer type that {@link Tensor#longs()} reads. */
    static boolean isInteger(int dataType) {
        return dataType == INT64 || dataType == INT32 || dataType == INT16 || dataType == INT8 || dataType == UINT8;
    }

    static String dataTypeName(int dataType) {
        return switch (dataType) {
            case FLOAT -> "float";
            case UINT8 -> "uint8";
            case INT8 -> "int8";
            case 4 -> "uint16";
            case INT16 -> "int16";
            case INT32 -> "int32";
            case INT64 -> "int64";
            case 8 -> "string";
            case BOOL -> "bool";
            case FLOAT16 -> "float16";
            case DOUBLE -> "double";
            case 12 -> "uint32";
            case 13 -> "uint64";
            case BFLOAT16 -> "bfloat16";
            default -> "type " + dataType;
        };
    }

    // ---------------------------------------------------------------------------------------------
    // Wire-format parsing

    /** One pass over the bytes; each message parser reads fields until the enclosing length limit. */
    private static final class Parser {
        private final String source;
        private CodedInputStream in;

        Parser(String source) {
            this.source = source;
        }

        /** How far parsing got, for errors. */
        int position() {
            return in == null ? 0 : in.getTotalBytesRead();
        }

        OnnxModel model(byte[] bytes) throws IOException {
            in = CodedInputStream.newInstance(bytes);
            in.enableAliasing(true); // raw_data becomes a view of `bytes`, not a copy
            long irVersion = 0;
            long opset = 0;
            String producerName = "";
            String producerVersion = "";
            GraphParts graph = null;
            int tag;
            while ((tag = in.readTag()) != 0) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> irVersion = varint(in, tag, "ModelProto.ir_version");
                    case 2 -> producerName = string(in, tag, "ModelProto.producer_name");
                    case 3 -> producerVersion = string(in, tag, "ModelProto.producer_version");
                    case 7 -> {
                        int old = enter(in, tag, "ModelProto.graph");
                        graph = graph(in);
                        in.popLimit(old);
                    }
                    case 8 -> {
                        int old = enter(in, tag, "ModelProto.opset_import");
                        long[] domainVersion = opsetImport(in);
                        in.popLimit(old);
                        if (domainVersion != null) {
                            opset = domainVersion[0];
                        }
                    }
                    default -> in.skipField(tag);
                }
            }
            if (graph == null || graph.nodes.isEmpty() && graph.initializers.isEmpty()) {
                throw new CheckpointException(source + ": not an ONNX model: no graph with nodes or initializers was found ("
                        + bytes.length + " bytes read). Check that the file is an .onnx export.");
            }
            GraphParts g = graph;
            List<ValueInfo> realInputs = g.inputs.stream().filter(v -> !g.initializers.containsKey(v.name())).toList();
            String producer = (producerName + " " + producerVersion).trim();
            return new OnnxModel(source, irVersion, opset, producer, g.nodes, g.initializers, realInputs, g.outputs);
        }

        /** OperatorSetIdProto: domain=1, version=2. Returns {version} for the default domain, else null. */
        private long[] opsetImport(CodedInputStream in) throws IOException {
            String domain = "";
            long version = 0;
            int tag;
            while ((tag = in.readTag()) != 0) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> domain = string(in, tag, "OperatorSetIdProto.domain");
                    case 2 -> version = varint(in, tag, "OperatorSetIdProto.version");
                    default -> in.skipField(tag);
                }
            }
            return domain.isEmpty() || domain.equals("ai.onnx") ? new long[] {version} : null;
        }

        private static final class GraphParts {
            final List<Node> nodes = new ArrayList<>();
            final Map<String, Tensor> initializers = new LinkedHashMap<>();
            final List<ValueInfo> inputs = new ArrayList<>();
            final List<ValueInfo> outputs = new ArrayList<>();
        }

        /** GraphProto: node=1, initializer=5, input=11, output=12. */
        private GraphParts graph(CodedInputStream in) throws IOException {
            GraphParts g = new GraphParts();
            int tag;
            while ((tag = in.readTag()) != 0) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> {
                        int old = enter(in, tag, "GraphProto.node");
                        g.nodes.add(node(in));
                        in.popLimit(old);
                    }
                    case 5 -> {
                        int old = enter(in, tag, "GraphProto.initializer");
                        Tensor t = tensor(in);
                        in.popLimit(old);
                        if (g.initializers.put(t.name(), t) != null) {
                            throw new CheckpointException(source + ": the graph has two initializers named \"" + t.name()
                                    + "\"; the export is corrupt. Export the model again.");
                        }
                    }
                    case 11, 12 -> {
                        boolean input = WireFormat.getTagFieldNumber(tag) == 11;
                        int old = enter(in, tag, input ? "GraphProto.input" : "GraphProto.output");
                        ValueInfo v = valueInfo(in);
                        in.popLimit(old);
                        (input ? g.inputs : g.outputs).add(v);
                    }
                    default -> in.skipField(tag);
                }
            }
            return g;
        }

        /** NodeProto: input=1, output=2, name=3, op_type=4, attribute=5. */
        private Node node(CodedInputStream in) throws IOException {
            List<String> inputs = new ArrayList<>();
            List<String> outputs = new ArrayList<>();
            String name = "";
            String opType = "";
            Map<String, Attribute> attributes = new LinkedHashMap<>();
            int tag;
            while ((tag = in.readTag()) != 0) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> inputs.add(string(in, tag, "NodeProto.input"));
                    case 2 -> outputs.add(string(in, tag, "NodeProto.output"));
                    case 3 -> name = string(in, tag, "NodeProto.name");
                    case 4 -> opType = string(in, tag, "NodeProto.op_type");
                    case 5 -> {
                        int old = enter(in, tag, "NodeProto.attribute");
                        Attribute a = attribute(in);
                        in.popLimit(old);
                        attributes.put(a.name(), a);
                    }
                    default -> in.skipField(tag);
                }
            }
            if (opType.isEmpty()) {
                throw new CheckpointException(source + ": a graph node (outputs " + outputs + ") has no op_type; the export"
                        + " is corrupt. Export the model again.");
            }
            return new Node(name, opType, inputs, outputs, attributes);
        }

        /** AttributeProto: name=1, f=2, i=3, s=4, t=5, floats=7, ints=8, type=20. */
        private Attribute attribute(CodedInputStream in) throws IOException {
            String name = "";
            int type = 0;
            float f = 0;
            long i = 0;
            String s = null;
            Tensor t = null;
            Numbers floats = new Numbers();
            Numbers ints = new Numbers();
            int tag;
            while ((tag = in.readTag()) != 0) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> name = string(in, tag, "AttributeProto.name");
                    case 2 -> {
                        expect(tag, WireFormat.WIRETYPE_FIXED32, "AttributeProto.f");
                        f = in.readFloat();
                    }
                    case 3 -> i = varint(in, tag, "AttributeProto.i");
                    case 4 -> s = string(in, tag, "AttributeProto.s");
                    case 5 -> {
                        int old = enter(in, tag, "AttributeProto.t");
                        t = tensor(in);
                        in.popLimit(old);
                    }
                    case 7 -> repeatedFixed32(in, tag, floats, "AttributeProto.floats");
                    case 8 -> repeatedVarint(in, tag, ints, "AttributeProto.ints");
                    case 20 -> type = (int) varint(in, tag, "AttributeProto.type");
                    default -> in.skipField(tag);
                }
            }
            float[] fl = new float[floats.size];
            for (int k = 0; k < fl.length; k++) {
                fl[k] = Float.intBitsToFloat((int) floats.values[k]);
            }
            return new Attribute(name, type, f, i, s, t, fl, ints.toArray());
        }

        /**
         * TensorProto: dims=1, data_type=2, float_data=4, int32_data=5, int64_data=7, name=8, raw_data=9,
         * double_data=10, external_data=13, data_location=14.
         */
        private Tensor tensor(CodedInputStream in) throws IOException {
            Numbers dims = new Numbers();
            int dataType = 0;
            String name = "";
            ByteBuffer raw = null;
            Numbers floatData = new Numbers();
            Numbers int32Data = new Numbers();
            Numbers int64Data = new Numbers();
            Numbers doubleData = new Numbers();
            boolean external = false;
            int tag;
            while ((tag = in.readTag()) != 0) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> repeatedVarint(in, tag, dims, "TensorProto.dims");
                    case 2 -> dataType = (int) varint(in, tag, "TensorProto.data_type");
                    case 4 -> repeatedFixed32(in, tag, floatData, "TensorProto.float_data");
                    case 5 -> repeatedVarint(in, tag, int32Data, "TensorProto.int32_data");
                    case 7 -> repeatedVarint(in, tag, int64Data, "TensorProto.int64_data");
                    case 8 -> name = string(in, tag, "TensorProto.name");
                    case 9 -> {
                        expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED, "TensorProto.raw_data");
                        raw = in.readByteBuffer();
                    }
                    case 10 -> repeatedFixed64(in, tag, doubleData, "TensorProto.double_data");
                    case 13 -> {
                        external = true;
                        in.skipField(tag);
                    }
                    case 14 -> external |= varint(in, tag, "TensorProto.data_location") == 1; // 1 = EXTERNAL
                    default -> in.skipField(tag);
                }
            }
            String label = name.isEmpty() ? "(unnamed tensor)" : "\"" + name + "\"";
            if (external) {
                throw new CheckpointException(source + ": tensor " + label + " keeps its values in an external data file,"
                        + " which this importer does not read. Re-export the model with its weights inside the .onnx file"
                        + " (onnx.save_model(model, path, save_as_external_data=False)).");
            }
            long[] shape = dims.toArray();
            for (long d : shape) {
                if (d < 0) {
                    throw new CheckpointException(source + ": tensor " + label + " has a negative dimension in "
                            + Arrays.toString(shape) + "; the export is corrupt.");
                }
            }
            DType dt = dtype(dataType, source + ": tensor " + label);
            long numel;
            try {
                numel = HostTensor.numel(shape);
            } catch (ArithmeticException e) {
                throw new CheckpointException(source + ": tensor " + label + " has a shape too large to exist: "
                        + Arrays.toString(shape));
            }
            ByteBuffer data;
            if (raw != null) {
                data = raw;
            } else {
                data = typedData(dataType, dt, floatData, int32Data, int64Data, doubleData);
            }
            long expected = numel * dt.bytes();
            if (data.remaining() != expected) {
                throw new CheckpointException(source + ": tensor " + label + " of shape " + Arrays.toString(shape) + " and"
                        + " type " + dataTypeName(dataType) + " needs " + expected + " bytes of data but holds "
                        + data.remaining() + "; the file is truncated or corrupt. Download or export it again.");
            }
            return new Tensor(name, dataType, shape, data);
        }

        /** The typed repeated fields, re-encoded in raw_data's little-endian layout. */
        private static ByteBuffer typedData(int dataType, DType dt, Numbers floatData, Numbers int32Data, Numbers int64Data,
                Numbers doubleData) {
            Numbers src = switch (dataType) {
                case FLOAT -> floatData;
                case INT64 -> int64Data;
                case DOUBLE -> doubleData;
                default -> int32Data; // int32, int16, int8, uint8, bool, float16 and bfloat16 (as bits) use int32_data
            };
            ByteBuffer out = ByteBuffer.allocate(src.size * dt.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < src.size; k++) {
                long v = src.values[k];
                switch (dt.bytes()) {
                    case 8 -> out.putLong(v);
                    case 4 -> out.putInt((int) v);
                    case 2 -> out.putShort((short) v);
                    default -> out.put((byte) v);
                }
            }
            out.flip();
            return out;
        }

        /** ValueInfoProto: name=1, type=2 -> TypeProto.tensor_type=1 -> elem_type=1, shape=2. */
        private ValueInfo valueInfo(CodedInputStream in) throws IOException {
            String name = "";
            int[] elemType = {0};
            List<Long> dims = new ArrayList<>();
            int tag;
            while ((tag = in.readTag()) != 0) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> name = string(in, tag, "ValueInfoProto.name");
                    case 2 -> {
                        int old = enter(in, tag, "ValueInfoProto.type");
                        typeProto(in, elemType, dims);
                        in.popLimit(old);
                    }
                    default -> in.skipField(tag);
                }
            }
            return new ValueInfo(name, elemType[0], dims.stream().mapToLong(Long::longValue).toArray());
        }

        private void typeProto(CodedInputStream in, int[] elemType, List<Long> dims) throws IOException {
            int tag;
            while ((tag = in.readTag()) != 0) {
                if (WireFormat.getTagFieldNumber(tag) != 1) { // tensor_type; sequences and maps are not weights
                    in.skipField(tag);
                    continue;
                }
                int old = enter(in, tag, "TypeProto.tensor_type");
                int t;
                while ((t = in.readTag()) != 0) {
                    switch (WireFormat.getTagFieldNumber(t)) {
                        case 1 -> elemType[0] = (int) varint(in, t, "TypeProto.Tensor.elem_type");
                        case 2 -> {
                            int oldShape = enter(in, t, "TypeProto.Tensor.shape");
                            shape(in, dims);
                            in.popLimit(oldShape);
                        }
                        default -> in.skipField(t);
                    }
                }
                in.popLimit(old);
            }
        }

        /** TensorShapeProto: dim=1 -> Dimension: dim_value=1, dim_param=2. */
        private void shape(CodedInputStream in, List<Long> dims) throws IOException {
            int tag;
            while ((tag = in.readTag()) != 0) {
                if (WireFormat.getTagFieldNumber(tag) != 1) {
                    in.skipField(tag);
                    continue;
                }
                int old = enter(in, tag, "TensorShapeProto.dim");
                long value = -1;
                int t;
                while ((t = in.readTag()) != 0) {
                    if (WireFormat.getTagFieldNumber(t) == 1) {
                        value = varint(in, t, "Dimension.dim_value");
                    } else {
                        in.skipField(t);
                    }
                }
                in.popLimit(old);
                dims.add(value);
            }
        }

        // ---- field helpers: each checks the wire type, so a field of the wrong kind is an error, not garbage

        private void expect(int tag, int wireType, String field) throws InvalidProtocolBufferException {
            if (WireFormat.getTagWireType(tag) != wireType) {
                throw new InvalidProtocolBufferException("field " + field + " has wire type " + WireFormat.getTagWireType(tag)
                        + ", expected " + wireType);
            }
        }

        /** Enters a length-delimited sub-message; returns the limit to restore with popLimit. */
        private int enter(CodedInputStream in, int tag, String field) throws IOException {
            expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED, field);
            int length = in.readRawVarint32();
            if (length < 0) {
                throw new InvalidProtocolBufferException("field " + field + " has a negative length");
            }
            return in.pushLimit(length); // fails when the length runs past the enclosing message (truncation)
        }

        private long varint(CodedInputStream in, int tag, String field) throws IOException {
            expect(tag, WireFormat.WIRETYPE_VARINT, field);
            return in.readInt64();
        }

        private String string(CodedInputStream in, int tag, String field) throws IOException {
            expect(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED, field);
            return in.readString();
        }

        /** A repeated varint field, packed (one length-delimited run) or not (one value per tag). */
        private void repeatedVarint(CodedInputStream in, int tag, Numbers out, String field) throws IOException {
            if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int old = in.pushLimit(in.readRawVarint32());
                while (in.getBytesUntilLimit() > 0) {
                    out.add(in.readInt64());
                }
                in.popLimit(old);
            } else {
                out.add(varint(in, tag, field));
            }
        }

        private void repeatedFixed32(CodedInputStream in, int tag, Numbers out, String field) throws IOException {
            if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int length = in.readRawVarint32();
                if (length % 4 != 0) {
                    throw new InvalidProtocolBufferException("packed field " + field + " has " + length + " bytes, not a multiple of 4");
                }
                int old = in.pushLimit(length);
                out.reserve(length / 4);
                while (in.getBytesUntilLimit() > 0) {
                    out.add(in.readRawLittleEndian32());
                }
                in.popLimit(old);
            } else {
                expect(tag, WireFormat.WIRETYPE_FIXED32, field);
                out.add(in.readRawLittleEndian32());
            }
        }

        private void repeatedFixed64(CodedInputStream in, int tag, Numbers out, String field) throws IOException {
            if (WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int length = in.readRawVarint32();
                if (length % 8 != 0) {
                    throw new InvalidProtocolBufferException("packed field " + field + " has " + length + " bytes, not a multiple of 8");
                }
                int old = in.pushLimit(length);
                out.reserve(length / 8);
                while (in.getBytesUntilLimit() > 0) {
                    out.add(in.readRawLittleEndian64());
                }
                in.popLimit(old);
            } else {
                expect(tag, WireFormat.WIRETYPE_FIXED64, field);
                out.add(in.readRawLittleEndian64());
            }
        }
    }

    /** A growable array of raw 64-bit values (varints, or float and double bits). */
    private static final class Numbers {
        long[] values = new long[8];
        int size;

        void reserve(int more) {
            if (size + more > values.length) {
                values = Arrays.copyOf(values, Math.max(size + more, values.length * 2));
            }
        }

        void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, values.length * 2);
            }
            values[size++] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
