/**
 * The safetensors format, read in the browser (issue #9: official EVA-CLIP weights are published as
 * `open_clip_model.safetensors`): `u64 little-endian N` | `N bytes of UTF-8 JSON` | data. The JSON maps each tensor
 * name to `{dtype, shape, data_offsets: [begin, end]}` (offsets into the data section) plus an optional
 * `__metadata__`. The rules are the reference reader's, as `models/eva_lens/safetensors_io.py` enforces them: the
 * tensors tile the data section exactly (no gap, no overlap, nothing after the last), so a file accepted here is
 * one the Python converter accepts. Only the header is parsed here; tensors are read one at a time by range, so a
 * 300 MB checkpoint is never held whole.
 */

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** The reference refuses headers above 100 MB; a larger length almost always means "not a safetensors file". */
export const MAX_HEADER_BYTES = 100_000_000;

export const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets into the file (not the data section): ready for a Range request. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Where the data section starts in the file: 8 + the header's length. */
  dataStart: number;
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** The header's length from the file's first 8 bytes, checked against the file size when it is known. */
export function headerLength(first8: Uint8Array, fileSize?: number): number {
  if (first8.length < 8)
    throw new SafetensorsError('The file is shorter than 8 bytes, so it is not a safetensors file.');
  const length = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      `The header claims ${length} bytes (over 100 MB): this is not a safetensors file.`,
    );
  }
  const n = Number(length);
  if (fileSize !== undefined && 8 + n > fileSize) {
    throw new SafetensorsError(
      `The header claims ${n} bytes but the file has only ${fileSize - 8} after its length: it is cut off.`,
    );
  }
  return n;
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * Parses the header. `bytes` holds at least the first 8 + N bytes of the file; `fileSize` (when known) lets the
 * last tensor be checked against the end of the file.
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileSize?: number): SafetensorsHeader {
  const length = headerLength(bytes, fileSize);
  if (bytes.length < 8 + length)
    throw new SafetensorsError(`The header is cut off (${bytes.length - 8} of ${length} bytes).`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length)));
  } catch (error) {
    throw new SafetensorsError(
      `The header is not valid UTF-8 JSON (${error instanceof Error ? error.message : error}).`,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SafetensorsError('The header is not a JSON object.');
  }
  const dataStart = 8 + length;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (
        typeof value !== 'object' ||
        value === null ||
        Object.values(value).some((v) => typeof v !== 'string')
      ) {
        throw new SafetensorsError('__metadata__ must map strings to strings.');
      }
      metadata = value as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (value ?? {}) as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw new SafetensorsError(`Tensor "${name}" has an unknown dtype ${JSON.stringify(dtype)}.`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new SafetensorsError(`Tensor "${name}" has an invalid shape ${JSON.stringify(shape)}.`);
    }
    const [first, last] = Array.isArray(offsets) && offsets.length === 2 ? (offsets as unknown[]) : [];
    if (!isCount(first) || !isCount(last) || last < first) {
      throw new SafetensorsError(`Tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}.`);
    }
    const expected =
      shape.reduce((product: number, size: number) => product * size, 1) *
      DTYPE_BYTES[dtype as SafetensorsDtype];
    if (last - first !== expected) {
      throw new SafetensorsError(
        `Tensor "${name}" (${dtype} ${JSON.stringify(shape)}) needs ${expected} bytes but its offsets span ${last - first}.`,
      );
    }
    tensors.set(name, {
      name,
      dtype: dtype as SafetensorsDtype,
      shape: shape as number[],
      begin: dataStart + first,
      end: dataStart + last,
    });
  }
  // The tensors must tile the data section: sorted by start, each begins where the previous one ended.
  let cursor = dataStart;
  for (const entry of [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (entry.begin !== cursor) {
      throw new SafetensorsError(
        entry.begin < cursor
          ? `Tensor "${entry.name}" overlaps the tensor before it.`
          : `There is a gap of ${entry.begin - cursor} bytes before tensor "${entry.name}".`,
      );
    }
    cursor = entry.end;
  }
  if (fileSize !== undefined && cursor !== fileSize) {
    throw new SafetensorsError(
      cursor > fileSize
        ? `The file is cut off: its tensors need ${cursor} bytes but it has ${fileSize}.`
        : `The file has ${fileSize - cursor} bytes after its last tensor.`,
    );
  }
  return { dataStart, tensors, metadata };
}

/** IEEE half → float32 (subnormals, infinities and NaN included). */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let halfTable: Float32Array | null = null;

function float16Table(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) halfTable[bits] = float16ToFloat32(bits);
  }
  return halfTable;
}

/** A tensor's bytes (little-endian, as stored) widened to float32; F32, F16 and BF16 only. */
export function tensorToFloat32(entry: TensorEntry, bytes: Uint8Array): Float32Array {
  if (bytes.length !== entry.end - entry.begin) {
    throw new SafetensorsError(
      `Tensor "${entry.name}": got ${bytes.length} bytes, expected ${entry.end - entry.begin}.`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.length / DTYPE_BYTES[entry.dtype];
  const out = new Float32Array(count);
  switch (entry.dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'F16': {
      // A table of all 65,536 halves is ~10x faster than decoding each (a 300 MB checkpoint is 150M of them).
      const table = float16Table();
      if (bytes.byteOffset % 2 === 0 && littleEndian) {
        const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, count);
        for (let i = 0; i < count; i++) out[i] = table[halves[i]!]!;
      } else {
        for (let i = 0; i < count; i++) out[i] = table[view.getUint16(i * 2, true)]!;
      }
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32: exact.
      const wide = new DataView(out.buffer);
      for (let i = 0; i < count; i++) wide.setUint32(i * 4, view.getUint16(i * 2, true) << 16, true);
      return out;
    }
    default:
      throw new SafetensorsError(
        `Tensor "${entry.name}" is ${entry.dtype}; EVA-CLIP weights must be F32, F16 or BF16.`,
      );
  }
}
