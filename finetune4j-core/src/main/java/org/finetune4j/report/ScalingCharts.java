package org.finetune4j.report;

import java.nio.file.Path;
import java.util.Map;
import org.finetune4j.io.AtomicFiles;

/** Line charts of the bench's scaling mode (throughput against sequence length, batch size, data size), as PNG. */
public final class ScalingCharts {
    private ScalingCharts() {
    }

    /**
     * Writes one chart.
     *
     * @param series name -> {x values, y values}, in legend order
     */
    public static void write(Path png, String title, String xTitle, String yTitle, Map<String, double[][]> series) {
        byte[] bytes = Charts.png(Charts.curves(title, xTitle, yTitle, series));
        AtomicFiles.write(png, out -> out.write(bytes));
    }
}
