/**
 * Pure vector maths for zero-shot ranking. Runs on the main thread (UI selectors) and in the worker; no DOM, no ORT.
 * All embeddings are row-major Float32Arrays; a matrix of `n` rows of `dim` values has length `n * dim`.
 */

/** A copy of `v` scaled to unit length. A zero vector stays zero rather than becoming NaN. */
export function l2Normalize(v: Float32Array): Float32Array {
  let sumOfSquares = 0;
  for (let i = 0; i < v.length; i++) sumOfSquares += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  if (sumOfSquares === 0) return out;
  const inverseNorm = 1 / Math.sqrt(sumOfSquares);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inverseNorm;
  return out;
}

/** Every row of a `[rows × dim]` matrix scaled to unit length (new array). */
export function l2NormalizeRows(matrix: Float32Array, dim: number): Float32Array {
  assertRowMatrix(matrix, dim);
  const out = new Float32Array(matrix.length);
  for (let start = 0; start < matrix.length; start += dim) {
    out.set(l2Normalize(matrix.subarray(start, start + dim)), start);
  }
  return out;
}

/** Cosine of the angle between two vectors of any length (used to compare probe embeddings). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`Cannot compare vectors of different lengths (${a.length} and ${b.length}).`);
  }
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  if (normA === 0 || normB === 0) return 0;
  return dot / Math.sqrt(normA * normB);
}

/**
 * Dot products of one image embedding with each row of `labels` (`[labels × dim]`). With L2-normalised inputs, as
 * the engine produces them, these are cosine similarities.
 */
export function cosineScores(image: Float32Array, labels: Float32Array, dim: number): Float32Array {
  if (image.length !== dim) {
    throw new RangeError(
      `The image embedding has ${image.length} values but the model's dimension is ${dim}.`,
    );
  }
  assertRowMatrix(labels, dim);
  const count = labels.length / dim;
  const scores = new Float32Array(count);
  for (let row = 0; row < count; row++) {
    let dot = 0;
    const offset = row * dim;
    for (let i = 0; i < dim; i++) dot += image[i]! * labels[offset + i]!;
    scores[row] = dot;
  }
  return scores;
}

/**
 * CLIP's class probabilities: softmax(logitScale × cosine). The maximum is subtracted first so that a large scale
 * (EVA-CLIP's is 100) cannot overflow `exp`.
 */
export function softmaxWithScale(cosines: Float32Array, logitScale: number): Float32Array {
  const out = new Float32Array(cosines.length);
  if (cosines.length === 0) return out;
  let max = -Infinity;
  for (let i = 0; i < cosines.length; i++) max = Math.max(max, logitScale * cosines[i]!);
  let sum = 0;
  const exps = new Float64Array(cosines.length);
  for (let i = 0; i < cosines.length; i++) {
    exps[i] = Math.exp(logitScale * cosines[i]! - max);
    sum += exps[i]!;
  }
  for (let i = 0; i < cosines.length; i++) out[i] = exps[i]! / sum;
  return out;
}

/** The `k` highest scores, best first; equal scores keep their original order. */
export function topK(scores: ArrayLike<number>, k: number): { index: number; score: number }[] {
  const entries = Array.from({ length: scores.length }, (_, index) => ({ index, score: scores[index]! }));
  entries.sort((a, b) => b.score - a.score || a.index - b.index);
  return entries.slice(0, Math.max(0, Math.floor(k)));
}

function assertRowMatrix(matrix: Float32Array, dim: number): void {
  if (!Number.isInteger(dim) || dim <= 0 || matrix.length % dim !== 0) {
    throw new RangeError(`A matrix of ${matrix.length} values cannot have rows of ${dim} values.`);
  }
}
