/**
 * The corners of the ported weight maths, with values worked out by hand from quantize.py's rules (the byte-for-byte
 * comparison with Python on whole models is in assemble.test.ts), and recipes that must be refused.
 */
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../core/errors';
import { validateRecipe } from './recipe';
import {
  applyOps,
  quantizeBlocks,
  quantizeInt8Columns,
  quantizeInt8Rows,
  roundHalfEven,
} from './weightMaths';

describe('weight maths', () => {
  it('rounds halves to even as numpy does', () => {
    // (-0.5 gives +0 where numpy gives -0.0: the same once cast to an integer code.)
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -2.5001].map(roundHalfEven)).toEqual([
      0, 2, 2, 0, -2, -2, 2, -3,
    ]);
  });

  it('int8 columns: scale max|w|/127, an all-zero column gets scale 1 and codes 0', () => {
    const { q, scale } = quantizeInt8Columns({
      data: new Float32Array([1, 0, -0.5, 0, 0.25, 0]),
      shape: [3, 2],
    });
    expect(Array.from(scale)).toEqual([Math.fround(1 / 127), 1]);
    expect(Array.from(q)).toEqual([127, 0, -64, 0, 32, 0]); // -63.5 → -64, 31.75 → 32
  });

  it('int8 rows quantize each row of an embedding table on its own', () => {
    const { q, scale } = quantizeInt8Rows({ data: new Float32Array([2, -1, 0, 0]), shape: [2, 2] });
    expect(Array.from(scale)).toEqual([Math.fround(2 / 127), 1]);
    expect(Array.from(q)).toEqual([127, -64, 0, 0]);
  });

  it('4-bit blocks: asymmetric codes packed low nibble first, K padded, an empty block is code 8', () => {
    // K = 20 with block 16: two blocks per column; column 0 holds 0..19, column 1 is all zeros.
    const k = 20;
    const data = new Float32Array(k * 2);
    for (let r = 0; r < k; r++) data[r * 2] = r;
    const blocks = quantizeBlocks({ data, shape: [k, 2] }, 4, 16);
    expect(Array.from(blocks.scales)).toEqual([1, Math.fround(19 / 15), 0, 0]);
    expect(blocks.codes[0]).toBe(0 | (1 << 4)); // values 0 and 1 with scale 1, zero point 0
    expect(blocks.codes.length).toBe(2 * 2 * 8);
    expect(Array.from(blocks.codes.subarray(16))).toEqual(new Array(16).fill(8 | (8 << 4)));
    expect(Array.from(blocks.zeroPoints)).toEqual([0, 8 | (8 << 4)]);
  });

  it('applies transposes and row slices as skeleton.py apply_ops', () => {
    const t = { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [3, 2] };
    const out = applyOps(t, [{ op: 'slice_rows', start: 1, end: 3 }, { op: 'transpose' }]);
    expect(out.shape).toEqual([2, 2]);
    expect(Array.from(out.data)).toEqual([3, 5, 4, 6]);
    expect(() => applyOps(t, [{ op: 'slice_rows', start: 2, end: 4 }])).toThrow(/rows 2\.\.4 do not fit/);
  });
});

describe('recipe validation', () => {
  const good = () => ({
    schemaVersion: 1,
    architecture: 'A',
    hub: { repo: 'r/m', revision: 'main', file: 'f.safetensors' },
    logitScaleTensor: 'logit_scale',
    tensors: { logit_scale: { shape: [] }, w: { shape: [2, 2] } },
    dtypes: { int8: { backends: ['wasm'], requiredFeatures: [], minProbeCosine: 0.99 } },
    outputs: [
      {
        tower: 'image',
        dtype: 'int8',
        skeleton: { path: 's', bytes: 10, sha256: 'x' },
        bytes: 14,
        holes: [
          { name: 'w.int8', at: 2, bytes: 4, hub: 'w', ops: [], encode: { kind: 'int8_columns', part: 'q' } },
        ],
      },
    ],
  });

  it('accepts a consistent recipe and refuses damaged ones with the fault', () => {
    expect(validateRecipe(good(), 'r.json').architecture).toBe('A');
    const cases: [string, (r: ReturnType<typeof good>) => void, RegExp][] = [
      ['schema', (r) => (r.schemaVersion = 2), /schema version 2/],
      ['overlap', (r) => (r.outputs[0]!.holes[0]!.at = 12), /out of order or outside the file/],
      ['unlisted tensor', (r) => (r.outputs[0]!.holes[0]!.hub = 'nope'), /unlisted tensor nope/],
      ['sizes', (r) => (r.outputs[0]!.bytes = 15), /do not add up/],
      [
        'encoding',
        (r) => ((r.outputs[0]!.holes[0]!.encode as { kind: string }).kind = 'fp8'),
        /unknown encoding/,
      ],
    ];
    for (const [what, damage, message] of cases) {
      const recipe = good();
      damage(recipe);
      expect(() => validateRecipe(recipe, 'r.json'), what).toThrow(ManifestError);
      expect(() => validateRecipe(recipe, 'r.json'), what).toThrow(message);
    }
  });
});
