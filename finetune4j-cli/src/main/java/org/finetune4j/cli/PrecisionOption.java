package org.finetune4j.cli;

import java.io.PrintStream;
import org.finetune4j.nn.Precision;
import picocli.CommandLine.Option;

/** --precision for the commands that run a model (train, compare, evaluate, predict, serve). */
final class PrecisionOption {
    @Option(names = "--precision", defaultValue = "fp32",
            description = "fp32, or bf16: the linear layers' matrix products in bf16 with fp32 accumulation, fp32 weights and"
                    + " optimizer state (transformers' bf16=True). Only on CPUs with AVX-512 BF16 or AMX; elsewhere fp32, with a"
                    + " warning. Default: ${DEFAULT-VALUE}.")
    String precision;

    /** Puts the precision in force for this process; a bf16 request that falls back to fp32 is reported on {@code err}. */
    Precision apply(PrintStream err) {
        Precision.Choice c = Precision.use(Precision.parse(precision));
        if (c.fallback() != null) {
            err.println("warning: --precision bf16: " + c.fallback());
        }
        return c.used();
    }
}
