/**
 * The weight maths of models/eva_lens/quantize.py and skeleton.py (apply_ops), ported so that the browser makes the
 * same bytes as the Python converter from the same checkpoint. The rules that make it bit for bit (quantize.py's
 * module docstring): float32 arithmetic with each operation rounded (`Math.fround` of a float64 result is the float32
 * result for + − × ÷), numpy's round-half-to-even, exact min/max. Weights are row-major Float32Arrays.
 */

import { roundHalfToEven } from '../image/preprocess';

/** A row-major float32 tensor. */
export interface FloatTensor {
  data: Float32Array;
  shape: number[];
}

/** One step from a hub tensor to an initializer (skeleton.py apply_ops). */
export type WeightOp = { op: 'transpose' } | { op: 'slice_rows'; start: number; end: number };

const f32 = Math.fround;

/** numpy's np.round is the same round-half-to-even as Python's round(), which preprocessing already ports. */
export const roundHalfEven = roundHalfToEven;

function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function applyOps(tensor: FloatTensor, ops: readonly WeightOp[]): FloatTensor {
  let out = tensor;
  for (const op of ops) {
    if (op.op === 'transpose') out = transpose(out);
    else out = sliceRows(out, op.start, op.end);
  }
  return out;
}

function transpose({ data, shape }: FloatTensor): FloatTensor {
  if (shape.length !== 2) throw new Error(`transpose needs a 2-D tensor, got shape [${shape.join(', ')}]`);
  const [rows, cols] = shape as [number, number];
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c]!;
  }
  return { data: out, shape: [cols, rows] };
}

function sliceRows({ data, shape }: FloatTensor, start: number, end: number): FloatTensor {
  const rows = shape[0] ?? 0;
  if (shape.length < 1 || start < 0 || end > rows || start >= end) {
    throw new Error(`rows ${start}..${end} do not fit a tensor of shape [${shape.join(', ')}]`);
  }
  const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
  return { data: data.slice(start * rowSize, end * rowSize), shape: [end - start, ...shape.slice(1)] };
}

const INT8_QMAX = 127;

/**
 * quantize_int8_columns: symmetric per-output-channel int8 of a [K, N] weight.
 * scale[n] = max_k |w[k, n]| / 127 (1 for an all-zero column); q = clip(round(w / scale), −127, 127).
 */
export function quantizeInt8Columns({ data, shape }: FloatTensor): { q: Int8Array; scale: Float32Array } {
  const [k, n] = matrixShape(shape);
  const scale = new Float32Array(n);
  for (let r = 0; r < k; r++) {
    const base = r * n;
    for (let c = 0; c < n; c++) {
      const a = Math.abs(data[base + c]!);
      if (a > scale[c]!) scale[c] = a;
    }
  }
  for (let c = 0; c < n; c++) scale[c] = nonZeroScale(f32(scale[c]! / INT8_QMAX));
  const q = new Int8Array(k * n);
  for (let r = 0; r < k; r++) {
    const base = r * n;
    for (let c = 0; c < n; c++) {
      q[base + c] = clip(roundHalfEven(f32(data[base + c]! / scale[c]!)), -INT8_QMAX, INT8_QMAX);
    }
  }
  return { q, scale };
}

/** quantize_int8_rows: per-row int8 of an embedding table [V, D] (scale[v] over row v). */
export function quantizeInt8Rows({ data, shape }: FloatTensor): { q: Int8Array; scale: Float32Array } {
  const [v, d] = matrixShape(shape);
  const q = new Int8Array(v * d);
  const scale = new Float32Array(v);
  for (let r = 0; r < v; r++) {
    const base = r * d;
    let max = 0;
    for (let c = 0; c < d; c++) max = Math.max(max, Math.abs(data[base + c]!));
    const s = nonZeroScale(f32(max / INT8_QMAX));
    scale[r] = s;
    for (let c = 0; c < d; c++)
      q[base + c] = clip(roundHalfEven(f32(data[base + c]! / s)), -INT8_QMAX, INT8_QMAX);
  }
  return { q, scale };
}

/** Codes, scales and zero points of a [K, N] weight in MatMulNBits blocks along K (see quantizeBlocks). */
export interface BlockWeight {
  /** bits 4: [N, kBlocks, blockSize / 2] (two codes a byte, low nibble first); bits 8: [N, kBlocks, blockSize]. */
  codes: Uint8Array;
  scales: Float32Array;
  /** bits 4: [N, ceil(kBlocks / 2)] (two a byte); bits 8: [N, kBlocks]. */
  zeroPoints: Uint8Array;
}

/**
 * quantize_q4_blocks / quantize_q8_blocks: asymmetric blocks along K, K zero-padded to whole blocks. Per column and
 * block: lo = min(0, min v), hi = max(0, max v), scale = (hi − lo) / qmax, zp = clip(round(−lo / scale), 0, qmax),
 * q = clip(round(v / scale) + zp, 0, qmax); an all-zero block (scale 0) gets code = zp = the empty code.
 */
export function quantizeBlocks({ data, shape }: FloatTensor, bits: 4 | 8, blockSize: number): BlockWeight {
  const [k, n] = matrixShape(shape);
  const qmax = bits === 4 ? 15 : 255;
  const emptyCode = bits === 4 ? 8 : 128;
  const kBlocks = Math.ceil(k / blockSize);
  const codesPerBlock = bits === 4 ? blockSize / 2 : blockSize;
  const codes = new Uint8Array(n * kBlocks * codesPerBlock);
  const scales = new Float32Array(n * kBlocks);
  const zpAll = new Uint8Array(n * kBlocks);
  const block = new Float32Array(blockSize);
  const blockCodes = new Uint8Array(blockSize);
  for (let c = 0; c < n; c++) {
    for (let b = 0; b < kBlocks; b++) {
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < blockSize; i++) {
        const row = b * blockSize + i;
        const v = row < k ? data[row * n + c]! : 0;
        block[i] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const scale = f32(f32(hi - lo) / qmax);
      const empty = scale === 0;
      const safe = empty ? 1 : scale;
      const zp = empty ? emptyCode : clip(roundHalfEven(f32(-lo / safe)), 0, qmax);
      for (let i = 0; i < blockSize; i++) {
        blockCodes[i] = empty ? emptyCode : clip(roundHalfEven(f32(block[i]! / safe)) + zp, 0, qmax);
      }
      const index = c * kBlocks + b;
      scales[index] = scale;
      zpAll[index] = zp;
      const out = index * codesPerBlock;
      if (bits === 8) codes.set(blockCodes, out);
      else
        for (let j = 0; j < codesPerBlock; j++)
          codes[out + j] = blockCodes[2 * j]! | (blockCodes[2 * j + 1]! << 4);
    }
  }
  if (bits === 8) return { codes, scales, zeroPoints: zpAll };
  const zpBytes = Math.ceil(kBlocks / 2);
  const zeroPoints = new Uint8Array(n * zpBytes);
  for (let c = 0; c < n; c++) {
    for (let j = 0; j < zpBytes; j++) {
      const low = zpAll[c * kBlocks + 2 * j]!;
      const high = 2 * j + 1 < kBlocks ? zpAll[c * kBlocks + 2 * j + 1]! : 0;
      zeroPoints[c * zpBytes + j] = low | (high << 4);
    }
  }
  return { codes, scales, zeroPoints };
}

/** An all-zero column (or one whose scale underflows) gets scale 1, as numpy's `np.where(scale == 0, 1, scale)`. */
function nonZeroScale(scale: number): number {
  return scale === 0 ? 1 : scale;
}

function matrixShape(shape: readonly number[]): [number, number] {
  if (shape.length !== 2) throw new Error(`expected a 2-D weight, got shape [${shape.join(', ')}]`);
  return [shape[0]!, shape[1]!];
}
