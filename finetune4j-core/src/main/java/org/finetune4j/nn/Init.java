package org.finetune4j.nn;

import java.util.SplittableRandom;

/**
 * How a parameter is initialised when the checkpoint does not provide it. The values follow
 * transformers' {@code _init_weights} for BERT-family models (normal(0, initializer_range) for linear
 * and embedding weights, zero biases, LayerNorm weight 1 and bias 0) and PEFT's LoRA init.
 * Values are drawn in Java from a generator seeded by (seed, parameter name), so a model built twice
 * with the same seed is identical whatever order its parameters are created in.
 */
public sealed interface Init {
    float[] values(int count, long seed, String name);

    record Normal(double std) implements Init {
        @Override
        public float[] values(int count, long seed, String name) {
            SplittableRandom r = rng(seed, name);
            float[] v = new float[count];
            for (int i = 0; i < count; i++) {
                v[i] = (float) (r.nextGaussian() * std);
            }
            return v;
        }
    }

    /** Uniform(-bound, bound). */
    record Uniform(double bound) implements Init {
        @Override
        public float[] values(int count, long seed, String name) {
            SplittableRandom r = rng(seed, name);
            float[] v = new float[count];
            for (int i = 0; i < count; i++) {
                v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
            }
            return v;
        }
    }

    /** Like {@link Normal} but with one row (the padding embedding) set to zero, as nn.Embedding(padding_idx) does. */
    record NormalZeroRow(double std, int row, int rowLength) implements Init {
        @Override
        public float[] values(int count, long seed, String name) {
            float[] v = new Normal(std).values(count, seed, name);
            if (row >= 0) {
                java.util.Arrays.fill(v, row * rowLength, (row + 1) * rowLength, 0f);
            }
            return v;
        }
    }

    record Constant(float value) implements Init {
        @Override
        public float[] values(int count, long seed, String name) {
            float[] v = new float[count];
            if (value != 0f) {
                java.util.Arrays.fill(v, value);
            }
            return v;
        }
    }

    Init ZEROS = new Constant(0f);
    Init ONES = new Constant(1f);

    /**
     * torch's kaiming_uniform_(w, a=sqrt(5)) as PEFT applies it to lora_A: bound = 1/sqrt(fan_in).
     */
    static Init kaimingUniformSqrt5(long fanIn) {
        return new Uniform(1.0 / Math.sqrt(fanIn));
    }

    private static SplittableRandom rng(long seed, String name) {
        long h = seed * 0x9E3779B97F4A7C15L;
        for (int i = 0; i < name.length(); i++) {
            h = (h ^ name.charAt(i)) * 0x100000001B3L;
        }
        return new SplittableRandom(h);
    }
}
