/**
 * A tiny two-tower "CLIP" for engine tests, written as real ONNX graphs with the app's interface
 * (docs/ARCHITECTURE.md): image `pixel_values [b,3,S,S]` → `image_embeds [b,D]` (a linear map of the flattened
 * pixels) and text `input_ids [b,seq]` (dynamic seq) → `text_embeds [b,D]` (token embedding at the EOT position,
 * argmax of the ids, times a projection). The expected outputs are computed here in plain TypeScript.
 */
import { buildOnnxModel, ELEM_FLOAT, ELEM_INT64 } from './onnxWriter';

export interface TinyClipWeights {
  size: number;
  dim: number;
  vocab: number;
  imageWeight: Float32Array; // [3·S·S, D]
  tokenEmbedding: Float32Array; // [vocab, D]
  textProjection: Float32Array; // [D, D]
}

/** Deterministic pseudo-random weights in [-1, 1). */
export function tinyClipWeights(size: number, dim: number, vocab: number, seed: number): TinyClipWeights {
  let state = seed >>> 0;
  const random = (n: number) =>
    Float32Array.from({ length: n }, () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 31 - 1;
    });
  return {
    size,
    dim,
    vocab,
    imageWeight: random(3 * size * size * dim),
    tokenEmbedding: random(vocab * dim),
    textProjection: random(dim * dim),
  };
}

export function tinyImageModel(w: TinyClipWeights): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'pixel_values', elemType: ELEM_FLOAT, dims: ['batch', 3, w.size, w.size] }],
    outputs: [{ name: 'image_embeds', elemType: ELEM_FLOAT, dims: ['batch', w.dim] }],
    initializers: [{ name: 'W', dims: [3 * w.size * w.size, w.dim], data: w.imageWeight }],
    nodes: [
      { op: 'Flatten', inputs: ['pixel_values'], outputs: ['flat'], attributes: { axis: 1 } },
      { op: 'MatMul', inputs: ['flat', 'W'], outputs: ['image_embeds'] },
    ],
  });
}

export function tinyTextModel(w: TinyClipWeights): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'input_ids', elemType: ELEM_INT64, dims: ['batch', 'seq'] }],
    outputs: [{ name: 'text_embeds', elemType: ELEM_FLOAT, dims: ['batch', w.dim] }],
    initializers: [
      { name: 'E', dims: [w.vocab, w.dim], data: w.tokenEmbedding },
      { name: 'P', dims: [w.dim, w.dim], data: w.textProjection },
      { name: 'one', dims: [], data: new BigInt64Array([1n]) },
      { name: 'axis1', dims: [1], data: new BigInt64Array([1n]) },
      { name: 'onehot_values', dims: [2], data: new Float32Array([0, 1]) },
    ],
    nodes: [
      { op: 'Gather', inputs: ['E', 'input_ids'], outputs: ['tokens'] }, // [b, seq, D]
      { op: 'ArgMax', inputs: ['input_ids'], outputs: ['eot'], attributes: { axis: 1, keepdims: 0 } }, // [b]
      { op: 'Shape', inputs: ['input_ids'], outputs: ['shape'] },
      { op: 'Gather', inputs: ['shape', 'one'], outputs: ['seq_len'], attributes: { axis: 0 } },
      {
        op: 'OneHot',
        inputs: ['eot', 'seq_len', 'onehot_values'],
        outputs: ['pick'],
        attributes: { axis: -1 },
      },
      { op: 'Unsqueeze', inputs: ['pick', 'axis1'], outputs: ['pick3'] }, // [b, 1, seq]
      { op: 'MatMul', inputs: ['pick3', 'tokens'], outputs: ['pooled3'] }, // [b, 1, D]
      { op: 'Squeeze', inputs: ['pooled3', 'axis1'], outputs: ['pooled'] },
      { op: 'MatMul', inputs: ['pooled', 'P'], outputs: ['text_embeds'] },
    ],
  });
}

/** What the image graph outputs for one CHW image. */
export function expectedImageEmbedding(w: TinyClipWeights, pixels: Float32Array): Float32Array {
  const out = new Float32Array(w.dim);
  for (let d = 0; d < w.dim; d++) {
    let sum = 0;
    for (let i = 0; i < pixels.length; i++) sum += pixels[i]! * w.imageWeight[i * w.dim + d]!;
    out[d] = sum;
  }
  return out;
}

/** What the text graph outputs for one unpadded id list. */
export function expectedTextEmbedding(w: TinyClipWeights, ids: number[]): Float32Array {
  const eot = ids.reduce((best, id, i) => (id > ids[best]! ? i : best), 0);
  const token = w.tokenEmbedding.subarray(ids[eot]! * w.dim, (ids[eot]! + 1) * w.dim);
  const out = new Float32Array(w.dim);
  for (let d = 0; d < w.dim; d++) {
    let sum = 0;
    for (let k = 0; k < w.dim; k++) sum += token[k]! * w.textProjection[k * w.dim + d]!;
    out[d] = sum;
  }
  return out;
}
