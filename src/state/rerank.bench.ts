/**
 * Issue #6 target "re-ranking 1,000 cached images against 10 new labels in under 1 s": the part after the text tower
 * (10 label embeddings take one text-tower run, ~0.1 s for B/16 int8 per BENCHMARKS.md). This is what the selectors
 * do when labels change: per image, cosines to every label, softmax with the logit scale and the top 3; then the grid
 * sorted by one label. Run with `npm run bench:rerank` (prints ms per full re-rank); not part of `npm test`.
 */
import { bench, describe } from 'vitest';
import { cosineScores, l2NormalizeRows, softmaxWithScale, topK } from '../core/ranking';

const DIM = 768; // EVA02-CLIP-L/14; B/16 is 512
const IMAGES = 1_000;
const LABELS = 10;

function randomRows(rows: number, seed: number): Float32Array {
  let state = seed;
  const next = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return l2NormalizeRows(Float32Array.from({ length: rows * DIM }, next), DIM);
}

const images = Array.from({ length: IMAGES }, (_, i) => randomRows(1, i + 1));
const labels = randomRows(LABELS, 99);

describe(`re-rank ${IMAGES} cached images against ${LABELS} new labels (dim ${DIM})`, () => {
  bench('scores, probabilities and top 3 of every image, then the grid sorted by one label', () => {
    const byFirstLabel = new Float32Array(IMAGES);
    images.forEach((image, i) => {
      const cosines = cosineScores(image, labels, DIM);
      const probabilities = softmaxWithScale(cosines, 100);
      topK(probabilities, 3);
      byFirstLabel[i] = probabilities[0]!;
    });
    Array.from(byFirstLabel.keys()).sort((a, b) => byFirstLabel[b]! - byFirstLabel[a]!);
  });
});
