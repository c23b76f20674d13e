/**
 * How cosines become a decision, in the two modes a person can choose. CLIP's scores are relative: softmax over
 * the labels (logitScale × cosine) says which label fits best, not whether any fits. Both modes keep that footing
 * and take everything from the model's own logit scale:
 *
 * - single-label: softmax(logitScale × cosine) over the labels; exactly one label fits the image.
 * - multi-label: each label on its own, p = sigmoid(ln(n × softmax share)) — the odds of the label against an
 *   average competitor. p = 0.5 (the default threshold) means "as likely as an average label"; two labels that fit
 *   about equally well both pass, a label e^3 times less likely than the best gets p ≈ 0.05·n.
 * - "none of these" (either mode): one more competitor, the image's cosine to the label set's centroid (the
 *   normalised mean of the label embeddings). For an image that fits none of the labels all cosines are alike and
 *   the centroid — normalised from a mean shorter than 1 — scores above each of them, so "none" wins; an image that
 *   fits a label scores that label above the centroid.
 */

/** The normalised mean of the rows of `labels` (`[count × dim]`, rows L2-normalised). */
export function labelCentroid(labels: Float32Array, dim: number): Float32Array {
  const centroid = new Float32Array(dim);
  const count = labels.length / dim;
  for (let row = 0; row < count; row++) {
    for (let i = 0; i < dim; i++) centroid[i]! += labels[row * dim + i]!;
  }
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += centroid[i]! * centroid[i]!;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < dim; i++) centroid[i]! /= norm;
  return centroid;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Multi-label: for each label, sigmoid(logit − logsumexp(all logits) + ln n), n the number of competitors (the
 * labels, plus the anchor when given). Computed in log space, so a scale of 100 cannot overflow.
 */
export function independentProbabilities(
  cosines: Float32Array,
  logitScale: number,
  anchor: number | null = null,
): Float32Array {
  const logits = Array.from(cosines, (cosine) => logitScale * cosine);
  if (anchor !== null) logits.push(logitScale * anchor);
  const max = Math.max(...logits);
  const logSumExp = max + Math.log(logits.reduce((sum, logit) => sum + Math.exp(logit - max), 0));
  const logCount = Math.log(logits.length);
  return cosines.map((cosine) => sigmoid(logitScale * cosine - logSumExp + logCount));
}

/**
 * Single-label with "none of these": softmax over the labels and the anchor as one more class.
 * @returns the labels' probabilities (summing to 1 − none) and the probability of none of them.
 */
export function softmaxWithNone(
  cosines: Float32Array,
  anchor: number,
  logitScale: number,
): { probabilities: Float32Array; none: number } {
  let max = logitScale * anchor;
  for (const cosine of cosines) max = Math.max(max, logitScale * cosine);
  const exps = Array.from(cosines, (cosine) => Math.exp(logitScale * cosine - max));
  const noneExp = Math.exp(logitScale * anchor - max);
  const sum = exps.reduce((total, value) => total + value, noneExp);
  return { probabilities: Float32Array.from(exps, (value) => value / sum), none: noneExp / sum };
}
