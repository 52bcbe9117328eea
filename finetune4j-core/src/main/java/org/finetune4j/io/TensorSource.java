package org.finetune4j.io;

import java.util.Map;
import java.util.Set;

/** Named tensors to load from: a checkpoint directory, an adapter file, or tensors in memory. */
public interface TensorSource {
    Set<String> names();

    HostTensor get(String name);

    /** Where the tensors come from, for error messages. */
    String describe();

    static TensorSource of(Map<String, HostTensor> tensors, String description) {
        return new TensorSource() {
            @Override
            public Set<String> names() {
                return tensors.keySet();
            }

            @Override
            public HostTensor get(String name) {
                HostTensor t = tensors.get(name);
                if (t == null) {
                    throw new CheckpointException(description + ": no tensor named \"" + name + "\"");
                }
                return t;
            }

            @Override
            public String describe() {
                return description;
            }
        };
    }
}
