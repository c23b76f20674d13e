import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON } from '../../test/python';
import {
  float16ToFloat32,
  headerLength,
  parseSafetensorsHeader,
  SafetensorsError,
  tensorToFloat32,
} from './safetensors';

/** A file from a header object and a data section, as the format lays them out. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

describe('parseSafetensorsHeader', () => {
  it('reads a file written by the Python converter (F32, F16, BF16) with the same values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eva-lens-st-'));
    try {
      const path = join(dir, 'x.safetensors');
      execFileSync(PYTHON, [
        '-c',
        `import sys, numpy as np
sys.path.insert(0, 'models')
from eva_lens.safetensors_io import save_file
a = np.array([[1.5, -2.0, 3.25], [0.0, 65504.0, -1e-5]], dtype=np.float32)
save_file({'visual.proj': a}, sys.argv[1] + '.f32')
save_file({'visual.proj': a}, sys.argv[1] + '.f16', float_dtype='F16')
save_file({'visual.proj': a, 'logit_scale': np.array(4.6, dtype=np.float32)}, sys.argv[1] + '.bf16', float_dtype='BF16', metadata={'format': 'pt'})`,
        path,
      ]);
      const expected = [1.5, -2.0, 3.25, 0.0, 65504.0, -1e-5];
      for (const [suffix, tolerance] of [
        ['f32', 0],
        ['f16', 1e-3],
        ['bf16', 1e-2],
      ] as const) {
        const bytes = new Uint8Array(readFileSync(`${path}.${suffix}`));
        const header = parseSafetensorsHeader(bytes, bytes.length);
        const entry = header.tensors.get('visual.proj')!;
        expect(entry.shape).toEqual([2, 3]);
        const values = tensorToFloat32(entry, bytes.subarray(entry.begin, entry.end));
        values.forEach((value, i) =>
          expect(Math.abs(value - Math.fround(expected[i]!))).toBeLessThanOrEqual(
            tolerance * Math.max(1, Math.abs(expected[i]!)),
          ),
        );
        if (suffix === 'bf16') expect(header.metadata).toEqual({ format: 'pt' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives file offsets ready for a Range request', () => {
    const bytes = file(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
      },
      f32([1, 2, 3]),
    );
    const header = parseSafetensorsHeader(bytes, bytes.length);
    const b = header.tensors.get('b')!;
    expect(b.begin).toBe(header.dataStart + 8);
    expect(Array.from(tensorToFloat32(b, bytes.subarray(b.begin, b.end)))).toEqual([3]);
  });

  const refused: [string, () => unknown, RegExp][] = [
    ['fewer than 8 bytes', () => headerLength(new Uint8Array(3)), /shorter than 8 bytes/],
    [
      'a header length over 100 MB',
      () => headerLength(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1])),
      /\(over 100 MB\): this is not a safetensors file/,
    ],
    ['a cut-off header', () => parseSafetensorsHeader(file({}).subarray(0, 9)), /header is cut off/],
    [
      'a header longer than the file',
      () => parseSafetensorsHeader(file({}), 5),
      /shorter than 8 bytes|cut off/,
    ],
    [
      'JSON that does not parse',
      () => {
        const bytes = file({ a: 1 });
        bytes[8] = 0x7b + 1; // '|' instead of '{'
        return parseSafetensorsHeader(bytes);
      },
      /not valid UTF-8 JSON/,
    ],
    [
      'an unknown dtype',
      () => parseSafetensorsHeader(file({ a: { dtype: 'F12', shape: [1], data_offsets: [0, 4] } }, f32([1]))),
      /unknown dtype "F12"/,
    ],
    [
      'offsets that do not fit the shape',
      () => parseSafetensorsHeader(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, f32([1]))),
      /needs 8 bytes but its offsets span 4/,
    ],
    [
      'a gap between tensors',
      () =>
        parseSafetensorsHeader(file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32([0, 1]))),
      /gap of 4 bytes before tensor "a"/,
    ],
    [
      'overlapping tensors',
      () =>
        parseSafetensorsHeader(
          file(
            {
              a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
              b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
            },
            f32([0, 1]),
          ),
        ),
      /overlaps/,
    ],
    [
      'a file cut off inside the data',
      () => {
        const bytes = file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32([0, 1]));
        return parseSafetensorsHeader(bytes, bytes.length - 2);
      },
      /cut off: its tensors need/,
    ],
    [
      'bytes after the last tensor',
      () => {
        const bytes = file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32([0, 1]));
        return parseSafetensorsHeader(bytes, bytes.length);
      },
      /4 bytes after its last tensor/,
    ],
    [
      'a weight stored as integers',
      () => {
        const bytes = file({ a: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, f32([0]));
        const entry = parseSafetensorsHeader(bytes).tensors.get('a')!;
        return tensorToFloat32(entry, bytes.subarray(entry.begin, entry.end));
      },
      /is I32; EVA-CLIP weights must be F32, F16 or BF16/,
    ],
  ];
  for (const [what, parse, message] of refused) {
    it(`refuses ${what} with a message`, () => {
      expect(parse).toThrow(SafetensorsError);
      expect(parse).toThrow(message);
    });
  }
});

describe('float16ToFloat32', () => {
  it('decodes normals, subnormals, infinities and NaN exactly', () => {
    expect(float16ToFloat32(0x3c00)).toBe(1);
    expect(float16ToFloat32(0xc000)).toBe(-2);
    expect(float16ToFloat32(0x7bff)).toBe(65504);
    expect(float16ToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16ToFloat32(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(float16ToFloat32(0x7e00))).toBe(true);
  });
});
