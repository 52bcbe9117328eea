package org.finetune4j.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.finetune4j.nn.Functional;
import org.finetune4j.nn.FusedKernels;
import org.finetune4j.nn.LayerNorm;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.Precision;
import org.finetune4j.nn.ScriptedKernels;
import org.finetune4j.nn.StepGradients;

/**
 * A stack of {@link Bert.Layer}s trained with a hand-written backward pass, as llm.c trains GPT-2: the
 * forward pass keeps exactly what the backward pass needs, and the backward pass is the chain rule of
 * this one layer written out. The matrix products are libtorch's (oneMKL), called without autograd; the
 * elementwise work between them is fused C kernels ({@link FusedKernels}): dropout + residual +
 * LayerNorm, GELU, and scale + mask + softmax + dropout, each forward and backward one pass over memory.
 * Autograd then records nothing for the layers: no graph nodes, no saved-tensor bookkeeping, no
 * gradient accumulation buffers.
 *
 * <p>BERT, RoBERTa and ELECTRA run their layers here while training, on the padded batch, on the CPU, when
 * every layer trains in full (no LoRA adapter, no frozen layer) and the kernels compiled; under
 * {@link Precision#BF16} the linear layers' products (forward and both backward ones) run in bf16 with fp32
 * accumulation, as the autograd layers' and torch.autocast's do, and everything else stays fp32;
 * everything else takes the autograd layers, which are also the oracle of FusedBertLayersTest. The
 * dropout masks are drawn in the order the autograd layers draw them, so both paths drop the same
 * elements. Shapes: B batch, T tokens, N = B·T rows, H hidden, nh heads, hs head size, I intermediate.
 */
final class FusedBertLayers implements StepGradients.HandBackward {
    private static final Set<String> ACTIVATIONS = Set.of("gelu", "gelu_new", "gelu_pytorch_tanh");

    /** Whether this training batch can take the hand-written path (see the class comment). */
    static boolean applies(List<Bert.Layer> layers, NDArray x, TokenLayout layout, StepGradients gradients, boolean training) {
        return training && gradients != null && layout instanceof TokenLayout.Padded && !x.getDevice().isGpu()
                && x.getDataType() == DataType.FLOAT32
                && layers.stream().allMatch(FusedBertLayers::fusable) && FusedKernels.available();
    }

    private static boolean fusable(Bert.Layer l) {
        List<Linear> linears = new ArrayList<>();
        l.collectLinears(linears);
        boolean linearsTrain = linears.stream().allMatch(lin -> lin.adapter() == null && lin.bias != null
                && lin.weight.array().hasGradient() && lin.bias.array().hasGradient());
        return linearsTrain && ACTIVATIONS.contains(l.act) && trains(l.attentionOutput.layerNorm) && trains(l.output.layerNorm);
    }

    private static boolean trains(LayerNorm n) {
        return n.weight.array().hasGradient() && n.bias.array().hasGradient();
    }

    /**
     * Runs the layers on x (B, T, H), the embeddings' output in autograd's graph, and files the backward
     * pass with {@code gradients}. Returns the last layer's states (B, T, H): a leaf that collects the
     * gradient of the head above it.
     */
    static NDArray forward(List<Bert.Layer> layers, NDArray x, NDArray attentionMask, StepGradients gradients) {
        FusedBertLayers stack = new FusedBertLayers(layers, x);
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false); // nothing below is recorded: the backward pass is written out
        try {
            NDArray keyMask = attentionMask.toType(DataType.UINT8, false); // (B, T)
            NDArray h = x.stopGradient(); // (B, T, H)
            for (Bert.Layer layer : layers) {
                Saved s = stack.layerForward(layer, h, keyMask);
                stack.saved.add(s);
                h = s.out;
            }
            stack.output = h;
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        stack.output.setRequiresGradient(true);
        gradients.add(stack);
        return stack.output;
    }

    /** What one layer's forward pass keeps for its backward pass. */
    private record Saved(NDArray x, NDArray wQkv, NDArray q, NDArray k, NDArray v, NDArray keyMask, NDArray probs, NDArray attnDrop,
            NDArray dropped, NDArray ctx, Norm norm1, NDArray h1, NDArray u, NDArray act, Norm norm2, NDArray out, NDManager scope) {
    }

    /** A dropout + residual + LayerNorm: its pre-norm sum, row statistics and dropout mask (null without dropout). */
    private record Norm(NDArray sum, NDArray mean, NDArray rstd, NDArray mask, float keep) {
    }

    private final List<Bert.Layer> layers;
    private final NDArray input;
    private final List<Saved> saved = new ArrayList<>();
    private NDArray output;

    private FusedBertLayers(List<Bert.Layer> layers, NDArray input) {
        this.layers = layers;
        this.input = input;
    }

    @Override
    public NDArray input() {
        return input;
    }

    @Override
    public boolean inputNeedsGradient() {
        // DJL's hasGradient() is PyTorch's requires_grad only for leaves; an op's result has a grad_fn instead.
        return input.hasGradient() || !JniUtils.getGradientFunctionNames((PtNDArray) input).isEmpty();
    }

    @Override
    public NDArray output() {
        return output;
    }

    // ---- forward ------------------------------------------------------------------------------------

    /** x (B, T, H) -> the layer's output (B, T, H), keeping what backward needs in a scope of its own. */
    private Saved layerForward(Bert.Layer layer, NDArray x, NDArray keyMask) {
        NDManager outer = x.getManager();
        NDManager scope = outer.newSubManager();
        Bert.SelfAttention att = layer.attention;
        long b = x.getShape().get(0);
        long t = x.getShape().get(1);
        long hidden = x.getShape().get(2);
        int nh = att.numHeads;
        int hs = att.headSize;
        NDArray xs = x.reshape(b * t, hidden); // (N, H)
        // query, key and value as one product with the three weights stacked: one larger GEMM instead of three
        NDArray wQkv = NDArrays.concat(new NDList(att.query.weight.array(), att.key.weight.array(), att.value.weight.array()));
        NDArray bQkv = NDArrays.concat(new NDList(att.query.bias.array(), att.key.bias.array(), att.value.bias.array()));
        wQkv.attach(scope);
        bQkv.attach(scope);
        NDArray qkv = product(xs, wQkv, bQkv) // (N, 3H)
                .reshape(b, t, 3, nh, hs).transpose(2, 0, 3, 1, 4); // (3, B, nh, T, hs), a view
        qkv.attach(scope);
        // Each head's rows made contiguous once, (B·nh, T, hs): forward and backward then run batched
        // products on them (and on their transposes) without further copies.
        NDArray q = qkv.get(0).reshape(b * nh, t, hs); // (B·nh, T, hs)
        NDArray k = qkv.get(1).reshape(b * nh, t, hs); // (B·nh, T, hs)
        NDArray v = qkv.get(2).reshape(b * nh, t, hs); // (B·nh, T, hs)
        // softmax(Q K^T / sqrt(hs) + mask) V, dropout on the probabilities
        NDArray probs = q.matMul(k.transpose(0, 2, 1)); // (B·nh, T, T), the raw scores, softmaxed in place
        NDArray attnDrop = mask(scope, probs.getShape(), att.dropoutP);
        NDArray dropped = attnDrop == null ? probs : scope.create(probs.getShape(), DataType.FLOAT32);
        Shape heads = new Shape(b, nh, t, t);
        FusedKernels.maskedSoftmaxDropout(probs.reshape(heads), (float) (1 / Math.sqrt(hs)), keyMask,
                attnDrop == null ? null : attnDrop.reshape(heads), keep(att.dropoutP), probs.reshape(heads),
                attnDrop == null ? null : dropped.reshape(heads));
        NDArray ctx = dropped.matMul(v).reshape(b, nh, t, hs).transpose(0, 2, 1, 3).reshape(b * t, hidden); // (N, H)
        // attention output: dense -> dropout -> + x -> LayerNorm
        NDArray a = linear(layer.attentionOutput.dense, ctx, scope); // (N, H)
        Norm n1 = norm(scope, a, layer.attentionOutput);
        NDArray h1 = scope.create(a.getShape(), DataType.FLOAT32); // (N, H)
        FusedKernels.dropoutResidualLayerNorm(a, n1.mask, n1.keep, xs, layer.attentionOutput.layerNorm.weight.array(),
                layer.attentionOutput.layerNorm.bias.array(), layer.attentionOutput.layerNorm.eps(), n1.sum, n1.mean, n1.rstd, h1);
        // feed-forward: dense -> GELU -> dense -> dropout -> + h1 -> LayerNorm
        NDArray u = linear(layer.intermediate, h1, scope); // (N, I)
        NDArray act = scope.create(u.getShape(), DataType.FLOAT32); // (N, I)
        FusedKernels.gelu(u, act, !layer.act.equals("gelu"));
        NDArray o = linear(layer.output.dense, act, scope); // (N, H)
        Norm n2 = norm(scope, o, layer.output);
        NDArray out = scope.create(o.getShape(), DataType.FLOAT32); // (N, H)
        FusedKernels.dropoutResidualLayerNorm(o, n2.mask, n2.keep, h1, layer.output.layerNorm.weight.array(),
                layer.output.layerNorm.bias.array(), layer.output.layerNorm.eps(), n2.sum, n2.mean, n2.rstd, out);
        a.close();
        o.close();
        return new Saved(xs, wQkv, q, k, v, keyMask, probs, attnDrop, dropped, ctx, n1, h1, u, act, n2, out.reshape(b, t, hidden), scope);
    }

    /** y = x W^T + b without autograd, into {@code scope}. */
    private static NDArray linear(Linear l, NDArray x, NDManager scope) {
        NDArray y = product(x, l.weight.array(), l.bias.array());
        y.attach(scope);
        return y;
    }

    /**
     * x (N, in) W (out, in)^T + b (out), or with b null x W^T: in fp32, or under {@link Precision#BF16} with the
     * product in bf16 (fp32 in and out, fp32 accumulation), as the autograd layers' {@link Linear} runs it.
     */
    private static NDArray product(NDArray x, NDArray w, NDArray b) {
        if (Precision.current() == Precision.BF16) {
            // recording is off here (grad mode false); "training" only keeps the result out of inference mode
            return ScriptedKernels.get().linearBf16(x, w, b, true);
        }
        return x.getNDArrayInternal().linear(x, w, b).singletonOrThrow();
    }

    /** dy (N, out) W (out, in) -> (N, in), in the precision of {@link #product}: an input's gradient. */
    private static NDArray productNn(NDArray dy, NDArray w) {
        if (Precision.current() == Precision.BF16) {
            NDArray wt = w.transpose(); // (in, out), a view
            wt.attach(dy.getManager()); // not under the weight's long-lived manager
            return ScriptedKernels.get().linearBf16(dy, wt, null, true);
        }
        return dy.matMul(w);
    }

    /** a (N, p)^T b (N, q) -> (p, q), in the precision of {@link #product}: a weight's gradient. */
    private static NDArray productTn(NDArray a, NDArray b) {
        if (Precision.current() == Precision.BF16) {
            return ScriptedKernels.get().matmulTnBf16(a, b);
        }
        return a.transpose().matMul(b);
    }

    /** The buffers of a dropout + residual + LayerNorm whose input is y (N, H); its dropout mask drawn now. */
    private static Norm norm(NDManager scope, NDArray y, Bert.ResidualOutput r) {
        long n = y.getShape().get(0);
        return new Norm(scope.create(y.getShape(), DataType.FLOAT32), scope.create(new Shape(n), DataType.FLOAT32),
                scope.create(new Shape(n), DataType.FLOAT32), mask(scope, y.getShape(), r.dropoutP), keep(r.dropoutP));
    }

    private static NDArray mask(NDManager scope, Shape shape, double p) {
        if (p <= 0) {
            return null;
        }
        NDArray m = Functional.dropoutMask(scope, shape, p);
        if (m == null) {
            throw new IllegalStateException("PyTorch gave no direct view of a dropout mask of shape " + shape);
        }
        return m;
    }

    private static float keep(double p) {
        return (float) (1 / (1 - p));
    }

    // ---- backward -----------------------------------------------------------------------------------

    @Override
    public NDArray backward(NDArray outputGradient) {
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            NDArray d = outputGradient; // (B, T, H)
            Shape shape = d.getShape();
            d = d.reshape(shape.get(0) * shape.get(1), shape.get(2)); // (N, H)
            for (int i = layers.size() - 1; i >= 0; i--) {
                Saved s = saved.get(i);
                NDArray dx = layerBackward(layers.get(i), s, d);
                dx.attach(input.getManager());
                s.scope.close();
                if (d != outputGradient) {
                    d.close();
                }
                d = dx;
            }
            saved.clear();
            return d.reshape(shape); // (B, T, H)
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** d loss / d out (N, H) -> d loss / d x (N, H); the layer's parameter gradients accumulated. */
    private static NDArray layerBackward(Bert.Layer layer, Saved s, NDArray dOut) {
        NDManager m = s.scope;
        Bert.SelfAttention att = layer.attention;
        long n = s.x.getShape().get(0);
        long hidden = s.x.getShape().get(1);
        // output LayerNorm <- dropout <- output.dense
        NDArray dSum2 = m.create(dOut.getShape(), DataType.FLOAT32); // (N, H), also the residual's (h1's) share
        NDArray dO = s.norm2.mask == null ? dSum2 : m.create(dOut.getShape(), DataType.FLOAT32); // (N, H)
        normBackward(m, layer.output.layerNorm, s.norm2, dOut, null, dSum2, dO);
        NDArray dAct = linearBackward(layer.output.dense, dO, s.act); // (N, I)
        // GELU <- intermediate.dense
        FusedKernels.geluBackward(dAct, s.u, dAct, !layer.act.equals("gelu"));
        NDArray dH1 = linearBackward(layer.intermediate, dAct, s.h1); // (N, H), the feed-forward's share
        // attention LayerNorm <- dropout <- attention.output.dense
        NDArray dSum1 = m.create(dOut.getShape(), DataType.FLOAT32); // (N, H), also the residual's (x's) share
        NDArray dA = s.norm1.mask == null ? dSum1 : m.create(dOut.getShape(), DataType.FLOAT32); // (N, H)
        normBackward(m, layer.attentionOutput.layerNorm, s.norm1, dSum2, dH1, dSum1, dA);
        NDArray dCtx = linearBackward(layer.attentionOutput.dense, dA, s.ctx); // (N, H)
        // attention: context = dropped V; dropped = dropout(softmax(scale Q K^T + mask))
        long b = s.keyMask.getShape().get(0);
        long t = s.keyMask.getShape().get(1);
        int nh = att.numHeads;
        int hs = att.headSize;
        NDArray dCtx3 = dCtx.reshape(b, t, nh, hs).transpose(0, 2, 1, 3).reshape(b * nh, t, hs); // (B·nh, T, hs)
        NDArray dDropped = dCtx3.matMul(s.v.transpose(0, 2, 1)); // (B·nh, T, T)
        NDArray dV = s.dropped.transpose(0, 2, 1).matMul(dCtx3); // (B·nh, T, hs)
        Shape heads = new Shape(b, nh, t, t);
        FusedKernels.maskedSoftmaxDropoutBackward(dDropped.reshape(heads), s.probs.reshape(heads),
                s.attnDrop == null ? null : s.attnDrop.reshape(heads), keep(att.dropoutP), (float) (1 / Math.sqrt(hs)),
                dDropped.reshape(heads)); // now d loss / d raw scores
        NDArray dQ = dDropped.matMul(s.k); // (B·nh, T, hs)
        NDArray dK = dDropped.transpose(0, 2, 1).matMul(s.q); // (B·nh, T, hs)
        // query, key and value backwards as one product, as forward ran them
        NDArray dQkv = NDArrays.stack(new NDList(tokens(dQ, b, nh), tokens(dK, b, nh), tokens(dV, b, nh)), 2)
                .reshape(n, 3 * hidden); // (N, 3H), [dq | dk | dv] per token
        NDList dW = productTn(dQkv, s.x).split(3, 0); // 3 x (H, H)
        NDArray dBias = m.create(new Shape(3 * hidden), DataType.FLOAT32); // (3H)
        FusedKernels.columnSums(dQkv, dBias);
        NDList dB = dBias.split(3, 0); // 3 x (H)
        List<Linear> qkv = List.of(att.query, att.key, att.value);
        for (int j = 0; j < 3; j++) {
            qkv.get(j).weight.accumulateGradient(dW.get(j));
            qkv.get(j).bias.accumulateGradient(dB.get(j));
        }
        return dSum1.addi(productNn(dQkv, s.wQkv)); // (N, H): the residual's share plus the attention's
    }

    /** (B·nh, T, hs) -> a (B, T, nh, hs) view, token-major. */
    private static NDArray tokens(NDArray heads, long b, int nh) {
        Shape sh = heads.getShape();
        return heads.reshape(b, nh, sh.get(1), sh.get(2)).transpose(0, 2, 1, 3);
    }

    private static void normBackward(NDManager m, LayerNorm ln, Norm s, NDArray dOut, NDArray dOutExtra, NDArray dSum, NDArray dY) {
        long h = dOut.getShape().get(1);
        NDArray dGamma = m.create(new Shape(h), DataType.FLOAT32);
        NDArray dBeta = m.create(new Shape(h), DataType.FLOAT32);
        FusedKernels.dropoutResidualLayerNormBackward(dOut, dOutExtra, s.sum, s.mean, s.rstd, ln.weight.array(), s.mask, s.keep,
                dSum, s.mask == null ? null : dY, dGamma, dBeta);
        ln.weight.accumulateGradient(dGamma);
        ln.bias.accumulateGradient(dBeta);
    }

    /**
     * y = x W^T + b, backwards: dW = dy^T x, db = sum over rows of dy, returned dx = dy W.
     * dy (N, out), x (N, in) -> dx (N, in).
     */
    private static NDArray linearBackward(Linear l, NDArray dy, NDArray x) {
        l.weight.accumulateGradient(productTn(dy, x)); // (out, in)
        NDArray db = dy.getManager().create(new Shape(dy.getShape().get(1)), DataType.FLOAT32); // (out)
        FusedKernels.columnSums(dy, db);
        l.bias.accumulateGradient(db);
        return productNn(dy, l.weight.array()); // (N, in)
    }

}
