package org.finetune4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.finetune4j.nn.Param;
import org.finetune4j.train.AdamW.State;
import org.finetune4j.train.AdamW.Step;

/**
 * {@link AdamW}'s update as tensor ops in place, for parameters on an accelerator, where a Java view of
 * the memory would be a copy. The gradient buffer serves as scratch space, so nothing parameter-sized is
 * allocated. OptimizationTest checks it, on CPU arrays, against torch's update and against {@link CpuUpdate}.
 */
final class TensorOpUpdate implements AdamW.Update {

    @Override
    public boolean rowMoments(Param p) {
        return false;
    }

    @Override
    public void apply(List<State> states, Step step, NDManager scratch) {
        double b1 = step.beta1();
        double b2 = step.beta2();
        for (State st : states) {
            Param p = st.param;
            NDArray g = AdamW.denseGradient(p, scratch);
            if (g == null) {
                continue;
            }
            NDArray w = p.array();
            if (st.decays && step.weightDecay() > 0) {
                w.muli(1 - step.lr() * st.lrScale * step.weightDecay());
            }
            g.muli((1 - b1) * step.clip()); // g = (1-b1) g'
            st.m.muli(b1).addi(g); // m = b1 m + (1-b1) g'
            g.muli(g); // g = (1-b1)^2 g'^2
            st.v.muli(b2).addi(g.muli((1 - b2) / ((1 - b1) * (1 - b1)))); // v = b2 v + (1-b2) g'^2
            g.muli(0).addi(st.v).powi(0.5).addi(step.epsHat()); // g = sqrt(v) + eps sqrt(bc2)
            g.powi(-1).muli(st.m).muli(step.stepSize() * st.lrScale); // g = step * m / denom
            w.subi(g);
            p.dropGradient();
        }
    }

    @Override
    public void close() {
    }
}
