package org.finetune4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.data.Dataset;
import org.finetune4j.data.EncodedDataset;
import org.finetune4j.text.TextTokenizer;

/**
 * Inference through ONNX Runtime on the ONNX export of the same model, with the same batches and
 * padding as {@link BenchWorker}'s own inference, in a process of its own. ONNX Runtime is an optional
 * dependency of the library (the command line ships it); this class is the only one that uses it.
 *
 * <p>It times {@code session.run} up to the encoder's last_hidden_state, left in native memory; ours
 * times the encoder plus pooling and the classification head, copied to Java: the head is a (B, H)
 * matmul, negligible beside the encoder, so the comparison slightly favours ONNX Runtime.
 */
final class OnnxBench {
    private OnnxBench() {
    }

    static Map<String, Object> run(BenchTask t, Map<Integer, List<int[]>> batches) throws Exception {
        try {
            Class.forName("ai.onnxruntime.OrtEnvironment");
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("ONNX Runtime is not on the classpath: add com.microsoft.onnxruntime:onnxruntime"
                    + " (the finetune4j command line includes it) or leave out --onnx");
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("cpu", BenchWorker.cpuName());
        Path dir = Path.of(t.modelDir());
        ModelConfig base = ModelConfig.read(dir);
        Dataset data = BenchWorker.load(t);
        EncodedDataset enc;
        try (TextTokenizer tok = TextTokenizer.load(dir, t.maxLength())) {
            enc = BenchWorker.encode(data, tok, t.labels());
        }
        long pad = base.encoder().padTokenId();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(t.threads());
            opts.setInterOpNumThreads(1);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(t.onnxFile(), opts)) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (Map.Entry<Integer, List<int[]>> e : batches.entrySet()) {
                    BenchWorker.InferenceTiming it = BenchWorker.time(e.getKey(), e.getValue(), enc.lengths(),
                            idx -> runBatch(env, session, enc, idx, pad));
                    rows.add(it.toMap());
                }
                r.put("engine_name", "ONNX Runtime " + OrtEnvironment.class.getPackage().getImplementationVersion());
                r.put("intra_op_threads", t.threads());
                r.put("max_length", t.maxLength());
                r.put("results", rows);
            }
        }
        return r;
    }

    /** One padded batch (B, T) through the graph, feeding the inputs it declares. */
    private static void runBatch(OrtEnvironment env, OrtSession session, EncodedDataset enc, int[] idx, long pad)
            throws OrtException {
        int b = idx.length;
        int t = 0;
        for (int i : idx) {
            t = Math.max(t, enc.length(i));
        }
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] types = new long[b * t];
        java.util.Arrays.fill(ids, pad);
        for (int row = 0; row < b; row++) {
            int[] tokens = enc.tokenIds(idx[row]);
            for (int j = 0; j < tokens.length; j++) {
                ids[row * t + j] = tokens[j];
                mask[row * t + j] = 1;
            }
        }
        long[] shape = {b, t};
        Map<String, long[]> available = Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types);
        Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
        try {
            for (String name : session.getInputNames()) {
                long[] v = available.get(name);
                if (v == null) {
                    throw new IllegalArgumentException("the ONNX graph has an input \"" + name + "\" the bench cannot feed;"
                            + " it feeds input_ids, attention_mask and token_type_ids");
                }
                inputs.put(name, OnnxTensor.createTensor(env, LongBuffer.wrap(v), shape));
            }
            try (OrtSession.Result result = session.run(inputs)) {
                result.get(0); // last_hidden_state (B, T, H), computed; left in native memory
            }
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }
}
