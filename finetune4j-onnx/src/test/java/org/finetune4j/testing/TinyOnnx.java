package org.finetune4j.testing;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A tiny BERT encoder written as an ONNX graph the way torch.onnx exports transformers' BertModel:
 * named embeddings, LayerNorms and biases; anonymous {@code onnx::MatMul_N} Linear weights stored
 * [in, out], each feeding a MatMul whose output is added to the named bias; GELU as Erf; a slice of a
 * constant position_ids buffer. ONNX Runtime runs it, so tests compare our encoder with it.
 *
 * <p>The protobuf is written with {@link CodedOutputStream} by onnx.proto's field numbers, using both
 * raw_data and the typed fields (float_data, int64_data), packed and unpacked, so the reader meets each.
 */
public final class TinyOnnx {

    /**
     * @param layerNormOp LayerNormalization nodes (opset 17) instead of the decomposed ReduceMean/Sqrt form
     * @param prefix prepended to the named initializers (e.g. "bert." as a classification export has)
     * @param drop named initializers (HF keys) to leave out of the file, to break it on purpose
     * @param anonymousBiases biases (HF keys) written under an anonymous name, so their Linear cannot be found
     * @param namedLinears Linear weights keep their names (still [in, out] MatMul operands)
     */
    public record Spec(int vocab, int hidden, int layers, int heads, int intermediate, int maxPositions, int typeVocab,
            float eps, boolean layerNormOp, String prefix, Set<String> drop, Set<String> anonymousBiases,
            boolean namedLinears, long seed) {
        public Spec {
            drop = Set.copyOf(drop);
            anonymousBiases = Set.copyOf(anonymousBiases);
        }

        /** Hidden 8, 2 layers, 2 heads, intermediate 12, the 30522-token vocabulary of the packaged tokenizer. */
        public static Spec tiny() {
            return new Spec(TinyModels.VOCAB, 8, 2, 2, 12, 40, 2, 1e-12f, false, "", Set.of(), Set.of(), false, 7);
        }

        public Spec withLayerNormOp(boolean op, float epsilon) {
            return new Spec(vocab, hidden, layers, heads, intermediate, maxPositions, typeVocab, epsilon, op, prefix, drop,
                    anonymousBiases, namedLinears, seed);
        }

        public Spec withPrefix(String p) {
            return new Spec(vocab, hidden, layers, heads, intermediate, maxPositions, typeVocab, eps, layerNormOp, p, drop,
                    anonymousBiases, namedLinears, seed);
        }

        public Spec dropping(String... keys) {
            return new Spec(vocab, hidden, layers, heads, intermediate, maxPositions, typeVocab, eps, layerNormOp, prefix,
                    Set.of(keys), anonymousBiases, namedLinears, seed);
        }

        public Spec withAnonymousBiases(String... keys) {
            return new Spec(vocab, hidden, layers, heads, intermediate, maxPositions, typeVocab, eps, layerNormOp, prefix,
                    drop, Set.of(keys), namedLinears, seed);
        }

        public Spec withNamedLinears() {
            return new Spec(vocab, hidden, layers, heads, intermediate, maxPositions, typeVocab, eps, layerNormOp, prefix,
                    drop, anonymousBiases, true, seed);
        }
    }

    /**
     * @param bytes the serialized ModelProto
     * @param expected each BertModel key's values as transformers stores them ([out, in] for Linear weights)
     * @param shapes each key's shape in transformers' layout
     * @param onnxNames the initializer name each key was written under
     */
    public record Built(byte[] bytes, Map<String, float[]> expected, Map<String, long[]> shapes, Map<String, String> onnxNames) {
    }

    private TinyOnnx() {
    }

    // ---------------------------------------------------------------------------------------------
    // A minimal protobuf writer

    /** One message: fields appended in order with CodedOutputStream. */
    public static final class Proto {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        private final CodedOutputStream out = CodedOutputStream.newInstance(buf);

        public Proto varint(int field, long v) {
            return io(() -> out.writeInt64(field, v));
        }

        public Proto string(int field, String s) {
            return io(() -> out.writeString(field, s));
        }

        public Proto bytes(int field, byte[] b) {
            return io(() -> out.writeByteArray(field, b));
        }

        public Proto message(int field, Proto m) {
            return bytes(field, m.toByteArray());
        }

        public Proto fixed32Float(int field, float f) {
            return io(() -> out.writeFloat(field, f));
        }

        /** A packed repeated field of varints (one length-delimited run). */
        public Proto packedVarints(int field, long[] values) {
            Proto p = new Proto();
            for (long v : values) {
                p.io(() -> p.out.writeInt64NoTag(v));
            }
            return bytes(field, p.toByteArray());
        }

        /** A packed repeated field of floats. */
        public Proto packedFloats(int field, float[] values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            return bytes(field, b.array());
        }

        public byte[] toByteArray() {
            io(out::flush);
            return buf.toByteArray();
        }

        private interface IoAction {
            void run() throws IOException;
        }

        private Proto io(IoAction a) {
            try {
                a.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }
    }

    // onnx.proto TensorProto.DataType
    public static final int FLOAT = 1;
    public static final int INT64 = 7;

    /** TensorProto with raw_data (dims=1 unpacked as proto2 writes them, data_type=2, name=8, raw_data=9). */
    public static Proto rawTensor(String name, int dataType, long[] dims, byte[] raw) {
        Proto t = new Proto();
        for (long d : dims) {
            t.varint(1, d);
        }
        return t.varint(2, dataType).string(8, name).bytes(9, raw);
    }

    /** TensorProto with packed float_data (field 4). */
    public static Proto floatDataTensor(String name, long[] dims, float[] values) {
        Proto t = new Proto().packedVarints(1, dims).varint(2, FLOAT);
        if (!name.isEmpty()) {
            t.string(8, name);
        }
        return t.packedFloats(4, values);
    }

    /** TensorProto with packed int64_data (field 7). */
    public static Proto int64Tensor(String name, long[] dims, long[] values) {
        Proto t = new Proto();
        for (long d : dims) {
            t.varint(1, d);
        }
        t.varint(2, INT64);
        if (!name.isEmpty()) {
            t.string(8, name);
        }
        return t.packedVarints(7, values);
    }

    public static byte[] floatBytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    /** A whole ModelProto around one graph: ir_version=1, producer_name=2, graph=7, opset_import=8. */
    public static byte[] model(Proto graph, long opset) {
        return new Proto().varint(1, 8).string(2, "finetune4j-tests").string(3, "1")
                .message(7, graph).message(8, new Proto().string(1, "").varint(2, opset)).toByteArray();
    }

    // ---------------------------------------------------------------------------------------------
    // The BERT graph

    /** Builds the graph (nodes in topological order, as ONNX requires). */
    private static final class GraphBuilder {
        final List<Proto> nodes = new ArrayList<>();
        final List<Proto> initializers = new ArrayList<>();
        final Set<String> initializerNames = new HashSet<>();
        int counter;
        int anonymous = 100;

        String fresh(String hint) {
            return "/" + hint + "_" + (counter++) + "_output_0";
        }

        /** A node: NodeProto input=1, output=2, name=3, op_type=4, attribute=5. */
        String node(String op, List<String> inputs, List<Proto> attributes) {
            String out = fresh(op);
            Proto n = new Proto();
            inputs.forEach(i -> n.string(1, i));
            n.string(2, out).string(3, out.replace("_output_0", "")).string(4, op);
            attributes.forEach(a -> n.message(5, a));
            nodes.add(n);
            return out;
        }

        String node(String op, String... inputs) {
            return node(op, List.of(inputs), List.of());
        }

        /** AttributeProto name=1, i=3, type=20 (INT = 2). */
        static Proto intAttr(String name, long v) {
            return new Proto().string(1, name).varint(3, v).varint(20, 2);
        }

        /** AttributeProto name=1, f=2, type=20 (FLOAT = 1). */
        static Proto floatAttr(String name, float v) {
            return new Proto().string(1, name).fixed32Float(2, v).varint(20, 1);
        }

        /** AttributeProto name=1, ints=8 (unpacked), type=20 (INTS = 7). */
        static Proto intsAttr(String name, long... v) {
            Proto p = new Proto().string(1, name);
            for (long x : v) {
                p.varint(8, x);
            }
            return p.varint(20, 7);
        }

        /** A Constant node: attribute "value" (t=5, type TENSOR = 4). */
        String constFloat(float v) {
            Proto t = floatDataTensor("", new long[0], new float[] {v});
            return node("Constant", List.of(), List.of(new Proto().string(1, "value").message(5, t).varint(20, 4)));
        }

        String constLongs(long... v) {
            Proto t = int64Tensor("", new long[] {v.length}, v);
            return node("Constant", List.of(), List.of(new Proto().string(1, "value").message(5, t).varint(20, 4)));
        }

        String constScalarLong(long v) {
            Proto t = int64Tensor("", new long[0], new long[] {v});
            return node("Constant", List.of(), List.of(new Proto().string(1, "value").message(5, t).varint(20, 4)));
        }

        void initializer(Proto tensor, String name) {
            initializers.add(tensor);
            initializerNames.add(name);
        }
    }

    /** Builds the model; random weights from {@code spec.seed()}. */
    public static Built bert(Spec s) {
        Random rnd = new Random(s.seed());
        GraphBuilder g = new GraphBuilder();
        Map<String, float[]> expected = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, String> onnxNames = new LinkedHashMap<>();
        int h = s.hidden();
        int hs = h / s.heads();

        // Named initializers: stored as they are. Alternate raw_data and float_data to exercise both.
        class Named {
            String add(String key, long[] shape, float[] values) {
                expected.put(key, values);
                shapes.put(key, shape);
                boolean anonymousBias = s.anonymousBiases().contains(key);
                String name = anonymousBias ? "onnx::Add_" + (g.anonymous++) : s.prefix() + key;
                onnxNames.put(key, name);
                if (!s.drop().contains(key)) {
                    g.initializer(expected.size() % 2 == 0 ? rawTensor(name, FLOAT, shape, floatBytes(values))
                            : floatDataTensor(name, shape, values), name);
                }
                return name;
            }
        }
        Named init = new Named();
        java.util.function.BiFunction<Integer, Double, float[]> gauss = (n, std) -> {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (rnd.nextGaussian() * std);
            }
            return v;
        };
        java.util.function.Function<Integer, float[]> lnWeight = n -> {
            float[] v = gauss.apply(n, 0.1);
            for (int i = 0; i < n; i++) {
                v[i] += 1;
            }
            return v;
        };

        /** An anonymous Linear weight: values [out, in] in `expected`, written transposed as [in, out]. */
        class Linear {
            String weight(String key, int in, int out) {
                float[] w = gauss.apply(out * in, 0.3); // [out, in]
                float[] t = new float[in * out];
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        t[i * out + o] = w[o * in + i];
                    }
                }
                expected.put(key, w);
                shapes.put(key, new long[] {out, in});
                String name = s.namedLinears() ? s.prefix() + key : "onnx::MatMul_" + (g.anonymous++);
                onnxNames.put(key, name);
                g.initializer(rawTensor(name, FLOAT, new long[] {in, out}, floatBytes(t)), name);
                return name;
            }

            /** x (..., in) -> MatMul -> Add(bias, .) -> (..., out), as torch.onnx writes nn.Linear. */
            String apply(String x, String prefix, int in, int out) {
                String w = weight(prefix + ".weight", in, out);
                String b = init.add(prefix + ".bias", new long[] {out}, gauss.apply(out, 0.1));
                String mm = g.node("MatMul", x, w);
                return g.node("Add", b, mm);
            }
        }
        Linear linear = new Linear();

        String word = init.add("embeddings.word_embeddings.weight", new long[] {s.vocab(), h}, gauss.apply(s.vocab() * h, 1.0));
        String pos = init.add("embeddings.position_embeddings.weight", new long[] {s.maxPositions(), h},
                gauss.apply(s.maxPositions() * h, 1.0));
        String types = init.add("embeddings.token_type_embeddings.weight", new long[] {s.typeVocab(), h},
                gauss.apply(s.typeVocab() * h, 1.0));
        long[] positions = new long[s.maxPositions()];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i;
        }
        String positionIds = s.prefix() + "embeddings.position_ids";
        g.initializer(int64Tensor(positionIds, new long[] {1, s.maxPositions()}, positions), positionIds);

        // Additive mask: (1 - mask) * min_float, (B, 1, 1, T)
        String m = g.node("Unsqueeze", "attention_mask", g.constLongs(1, 2));
        m = g.node("Cast", List.of(m), List.of(GraphBuilder.intAttr("to", FLOAT)));
        m = g.node("Sub", g.constFloat(1f), m);
        String mask = g.node("Mul", m, g.constFloat(-Float.MAX_VALUE));

        // Positions: position_ids[:, 0:T]
        String shape = g.node("Shape", "input_ids");
        String t = g.node("Gather", List.of(shape, g.constScalarLong(1)), List.of(GraphBuilder.intAttr("axis", 0)));
        String t1 = g.node("Unsqueeze", t, g.constLongs(0));
        String posIds = g.node("Slice", positionIds, g.constLongs(0), t1, g.constLongs(1), g.constLongs(1));

        String x = g.node("Gather", word, "input_ids");
        x = g.node("Add", x, g.node("Gather", types, "token_type_ids"));
        x = g.node("Add", x, g.node("Gather", pos, posIds));

        class Norm {
            String apply(String in, String key) {
                String w = init.add(key + ".weight", new long[] {h}, lnWeight.apply(h));
                String b = init.add(key + ".bias", new long[] {h}, gauss.apply(h, 0.1));
                if (s.layerNormOp()) {
                    return g.node("LayerNormalization", List.of(in, w, b),
                            List.of(GraphBuilder.intAttr("axis", -1), GraphBuilder.floatAttr("epsilon", s.eps())));
                }
                String mean = g.node("ReduceMean", List.of(in), List.of(GraphBuilder.intsAttr("axes", -1)));
                String centered = g.node("Sub", in, mean);
                String sq = g.node("Pow", centered, g.constFloat(2f));
                String var = g.node("ReduceMean", List.of(sq), List.of(GraphBuilder.intsAttr("axes", -1)));
                String std = g.node("Sqrt", g.node("Add", var, g.constFloat(s.eps())));
                return g.node("Add", g.node("Mul", g.node("Div", centered, std), w), b);
            }
        }
        Norm norm = new Norm();
        x = norm.apply(x, "embeddings.LayerNorm");

        for (int l = 0; l < s.layers(); l++) {
            String p = "encoder.layer." + l + ".";
            String headShape = g.constLongs(0, 0, s.heads(), hs); // 0 copies B and T from the input
            String q = g.node("Transpose", List.of(g.node("Reshape", linear.apply(x, p + "attention.self.query", h, h), headShape)),
                    List.of(GraphBuilder.intsAttr("perm", 0, 2, 1, 3))); // (B, nh, T, hs)
            String k = g.node("Transpose", List.of(g.node("Reshape", linear.apply(x, p + "attention.self.key", h, h), headShape)),
                    List.of(GraphBuilder.intsAttr("perm", 0, 2, 3, 1))); // (B, nh, hs, T)
            String v = g.node("Transpose", List.of(g.node("Reshape", linear.apply(x, p + "attention.self.value", h, h), headShape)),
                    List.of(GraphBuilder.intsAttr("perm", 0, 2, 1, 3))); // (B, nh, T, hs)
            String scores = g.node("Add", g.node("Div", g.node("MatMul", q, k), g.constFloat((float) Math.sqrt(hs))), mask);
            String probs = g.node("Softmax", List.of(scores), List.of(GraphBuilder.intAttr("axis", -1)));
            String ctx = g.node("Transpose", List.of(g.node("MatMul", probs, v)), List.of(GraphBuilder.intsAttr("perm", 0, 2, 1, 3)));
            ctx = g.node("Reshape", ctx, g.constLongs(0, 0, h)); // (B, T, H)
            String attn = linear.apply(ctx, p + "attention.output.dense", h, h);
            String h1 = norm.apply(g.node("Add", attn, x), p + "attention.output.LayerNorm");
            String inter = linear.apply(h1, p + "intermediate.dense", h, s.intermediate());
            // GELU, exact: x * 0.5 * (1 + erf(x / sqrt(2)))
            String erf = g.node("Erf", g.node("Div", inter, g.constFloat((float) Math.sqrt(2))));
            String gelu = g.node("Mul", g.node("Mul", inter, g.node("Add", erf, g.constFloat(1f))), g.constFloat(0.5f));
            String out = linear.apply(gelu, p + "output.dense", s.intermediate(), h);
            x = norm.apply(g.node("Add", out, h1), p + "output.LayerNorm");
        }
        Proto last = new Proto().string(1, x).string(2, "last_hidden_state").string(3, "/Identity").string(4, "Identity");
        g.nodes.add(last);

        Proto graph = new Proto();
        g.nodes.forEach(n -> graph.message(1, n));
        graph.string(2, "tiny_bert");
        g.initializers.forEach(i -> graph.message(5, i));
        for (String in : List.of("input_ids", "attention_mask", "token_type_ids")) {
            graph.message(11, valueInfo(in, INT64, "batch_size", "sequence_length"));
        }
        graph.message(12, valueInfo("last_hidden_state", FLOAT, "batch_size", "sequence_length", Integer.toString(h)));
        return new Built(model(graph, 17), expected, shapes, onnxNames);
    }

    /** ValueInfoProto name=1, type=2 { tensor_type=1 { elem_type=1, shape=2 { dim=1 { dim_value=1 | dim_param=2 } } } }. */
    static Proto valueInfo(String name, int elemType, String... dims) {
        Proto shape = new Proto();
        for (String d : dims) {
            shape.message(1, d.chars().allMatch(Character::isDigit) ? new Proto().varint(1, Long.parseLong(d))
                    : new Proto().string(2, d));
        }
        Proto tensorType = new Proto().varint(1, elemType).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }
}
