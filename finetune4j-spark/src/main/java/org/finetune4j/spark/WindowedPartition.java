package org.finetune4j.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * One partition's rows through a {@link RowScorer}, a bounded window at a time: up to {@code window}
 * rows are read, their texts handed to the scorer together (the model sorts them by token length into
 * batches, so batches carry little padding, and returns results in input order), and the rows come out
 * in input order with the output columns appended. Memory stays bounded by the window, never the
 * partition; the output is a function of the rows alone, so a retried task gives the same rows.
 */
final class WindowedPartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final RowScorer scorer;
    private final int textIndex;
    private final String textColumn;
    private final int window;
    private final EmptyTextPolicy policy;

    WindowedPartition(RowScorer scorer, int textIndex, String textColumn, int window, EmptyTextPolicy policy) {
        this.scorer = scorer;
        this.textIndex = textIndex;
        this.textColumn = textColumn;
        this.window = window;
        this.policy = policy;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        int partition = TaskContext.get() == null ? -1 : TaskContext.get().partitionId();
        return new Iterator<>() {
            private final List<Row> out = new ArrayList<>();
            private int next;
            private long rowsRead;

            @Override
            public boolean hasNext() {
                if (next < out.size()) {
                    return true;
                }
                out.clear();
                next = 0;
                if (rows.hasNext()) {
                    fill();
                }
                return next < out.size();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return out.get(next++);
            }

            /** Reads the next window of rows, scores its texts, and queues the rows with their outputs. */
            private void fill() {
                List<Row> in = new ArrayList<>(window);
                List<String> texts = new ArrayList<>(window);
                List<Integer> scored = new ArrayList<>(window); // positions in `in` of the texts handed to the scorer
                while (in.size() < window && rows.hasNext()) {
                    Row r = rows.next();
                    Object v = r.get(textIndex);
                    String text = v == null ? null : v.toString();
                    if (EmptyTextPolicy.isEmpty(text)) {
                        if (policy == EmptyTextPolicy.FAIL) {
                            throw new IllegalArgumentException("the text column '" + textColumn + "' is "
                                    + (text == null ? "null" : "empty") + " in row " + rowsRead + " of partition " + partition
                                    + " (" + abbreviate(r.toString()) + "); set emptyTextPolicy to skip to give such rows a null prediction,"
                                    + " or filter them out first");
                        }
                    } else {
                        scored.add(in.size());
                        texts.add(text);
                    }
                    in.add(r);
                    rowsRead++;
                }
                Object[][] values = texts.isEmpty() ? new Object[0][] : scorer.score(texts);
                Object[][] byRow = new Object[in.size()][];
                for (int i = 0; i < scored.size(); i++) {
                    byRow[scored.get(i)] = values[i];
                }
                for (int i = 0; i < in.size(); i++) {
                    out.add(append(in.get(i), byRow[i] == null ? new Object[scorer.width()] : byRow[i]));
                }
            }
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    private static Row append(Row r, Object[] extra) {
        Object[] v = new Object[r.length() + extra.length];
        for (int i = 0; i < r.length(); i++) {
            v[i] = r.get(i);
        }
        System.arraycopy(extra, 0, v, r.length(), extra.length);
        return RowFactory.create(v);
    }
}
