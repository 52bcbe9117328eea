package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;

/**
 * Something added to a {@link Linear} layer's output, such as a LoRA update. It sees the layer's input
 * and the base output and returns the combined output.
 */
public interface Adapter {
    /**
     * @param x the layer input (..., in)
     * @param base the base layer output (..., out)
     * @return base plus the adapter's contribution (..., out)
     */
    NDArray apply(NDArray x, NDArray base, boolean training);
}
