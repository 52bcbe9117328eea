/**
 * Classification metrics, computed in plain Java with scikit-learn's definitions so that numbers
 * agree with a Hugging Face Trainer + scikit-learn notebook.
 *
 * <p>Conventions, each with its reference:
 * <ul>
 *   <li><b>Predictions</b> come from probabilities: argmax (first maximum on ties, as
 *       {@code numpy.argmax}), or for a binary task with a decision threshold t, label 1 when
 *       P(label 1) &gt; t. "Above" is strict so that t = 0.5 agrees with argmax over a softmax pair, and
 *       it is the meaning of {@code ModelConfig.decisionThreshold}.
 *   <li><b>Zero division</b> gives 0.0, as scikit-learn's default {@code zero_division="warn"} does
 *       (it also warns; we do not): precision with no predictions of a class, recall with no examples
 *       of it, F1 when both are absent. F1 is 2·TP / (2·TP + FP + FN), scikit-learn's formula since
 *       1.3, so a class that is predicted but never right has F1 0 without a 0/0.
 *   <li><b>Averages</b>: macro is the plain mean over every label, including labels absent from the
 *       data (scikit-learn with {@code labels=range(C)}); weighted uses the support as weights; for a
 *       single-label task the micro average equals accuracy and is printed as the "accuracy" row.
 *   <li><b>Positive class</b> of a binary task is id 1 unless overridden.
 *   <li><b>Confusion matrix</b> rows are true labels and columns predicted ones, as
 *       {@code sklearn.metrics.confusion_matrix}.
 *   <li><b>ROC-AUC</b> counts a tied positive/negative pair as half a win (Mann–Whitney U), which is
 *       exactly the trapezoidal area {@code roc_auc_score} computes over tied scores. It is undefined
 *       (null, key left out of the flat map) when the gold labels hold one class only, where
 *       {@code roc_auc_score} raises an error. With three or more labels, the one-vs-rest (macro and
 *       weighted) and one-vs-one (macro, Hand &amp; Till 2001) areas of {@link MultiClassRocAuc}, left
 *       out where {@code roc_auc_score(multi_class=...)} raises: a label absent from the gold labels.
 * </ul>
 */
package org.finetune4j.metrics;
