/**
 * The semantic check of hub builds: the drawn pictures, the scoring, and the check run through onnxruntime-web (WASM,
 * Node) on three models — the project's demo model, which knows colours and shapes and must pass; the hub-demo
 * converter output of random weights (pytest writes it to models/.artifacts/hub-demo), which must fail; and the demo
 * model with one weight transposed, laid out as a build from a mis-mapped checkpoint would lay it, which must fail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OrtModule } from '../inference/backend';
import type { ModelManifest } from '../../core/manifest';
import { validateManifest } from '../library/manifestValidation';
import { REPO_ROOT } from '../../test/preprocessFixtures';
import { describeWithInputs } from '../../test/requiredInputs';
import { encodeWeight } from './assemble';
import { validateRecipe, type Hole } from './recipe';
import { MIN_SHARE, TEST_GROUPS, answerTestImages, checkStoredModel, drawTestImages } from './semanticCheck';

const importOrt = async () => (await import('onnxruntime-web')) as OrtModule;
const DEMO = join(REPO_ROOT, 'public', 'models', 'eva-lens-demo');
const HUB_DEMO = join(REPO_ROOT, 'models', '.artifacts', 'hub-demo');
const RANDOM = join(HUB_DEMO, 'convert');
const RECIPE = join(HUB_DEMO, 'recipe', 'recipe.json');
/** Running the check through WASM on the demo's size takes 1–5 s here; a busy 2-core machine gets headroom. */
const ORT_TIMEOUT = 60_000;

const readManifest = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;

/** The store's read side over a folder, with some files replaced. */
function folderStore(dir: string, replaced: Record<string, Uint8Array> = {}) {
  return {
    readFile: (_id: string, path: string) =>
      Promise.resolve(new Blob([new Uint8Array(replaced[path] ?? readFileSync(join(dir, path)))])),
  };
}

describe('the test pictures', () => {
  it('are drawn the same at every call, at the size asked, a shape in the middle and background at the corner', () => {
    const first = drawTestImages(48);
    const again = drawTestImages(48);
    expect(first.map((p) => p.image.data)).toEqual(again.map((p) => p.image.data));
    expect(first).toHaveLength(TEST_GROUPS.reduce((n, g) => n + g.prompts.length, 0));
    const pictures = drawTestImages(224);
    const pixel = (i: number, x: number, y: number) => {
      const { data, width } = pictures[i]!.image;
      return [...data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)];
    };
    expect(pictures[0]!.image.width).toBe(224);
    expect(pixel(0, 112, 112)).toEqual([220, 30, 30, 255]); // the red circle's centre
    expect(pixel(0, 2, 2)).toEqual([128, 128, 128, 255]); // grey background
    expect(pictures.at(-1)!.name).toBe('the word BUS in black on white');
  }, 30_000);
});

describe('scoring', () => {
  it('a model that answers the same whatever it sees gets one right per group, below the share needed', async () => {
    const dim = 4;
    const constant = drawTestImages(8).map(() => Float32Array.of(1, 0, 0, 0));
    // Every prompt gets a different embedding, the first of each group nearest to what the image tower gives.
    const tokenizer = {
      encode: (text: string) => ({ ids: [text.length], truncated: false }),
      pack: (prompts: readonly { ids: number[] }[]) => ({
        inputIds: BigInt64Array.from(prompts.map((p) => BigInt(p.ids[0]!))),
        batch: prompts.length,
        seqLen: 1,
        truncated: prompts.map(() => false),
      }),
    };
    const check = await answerTestImages(constant, dim, 'int8', tokenizer, (ids, batch) =>
      Promise.resolve(
        Float32Array.from({ length: batch * dim }, (_, i) =>
          i % dim === 0 ? 1 : Number(ids[Math.floor(i / dim)]!) * 0.01,
        ),
      ),
    );
    expect(check.total).toBe(19);
    expect(check.correct).toBe(TEST_GROUPS.length);
    expect(check.passed).toBe(false);
    expect(check.minShare).toBe(MIN_SHARE);
  });
});

describe('the record in the manifest', () => {
  it('survives validation as written, and a damaged one is refused naming the field', () => {
    const semanticCheck = {
      dtype: 'int8',
      correct: 4,
      total: 19,
      minShare: MIN_SHARE,
      passed: false,
      items: [{ image: 'solid red', expected: 'red', answered: 'blue' }],
    };
    const manifest = { ...readManifest(DEMO), semanticCheck };
    expect(validateManifest(manifest, 'built').semanticCheck).toEqual(semanticCheck);
    expect(() =>
      validateManifest({ ...manifest, semanticCheck: { ...semanticCheck, passed: 'no' } }, 'built'),
    ).toThrow('semanticCheck.passed must be true or false');
  });
});

describe('the check on real graphs (onnxruntime-web, WASM)', () => {
  it(
    'passes the demo model, which knows colours and shapes: every colour and shape right, the words at chance',
    async () => {
      const ort = await importOrt();
      for (const dtype of ['int8', 'q4'] as const) {
        const check = await checkStoredModel(ort, folderStore(DEMO), readManifest(DEMO), dtype);
        const wrong = check.items.filter((item) => item.answered !== item.expected).map((item) => item.image);
        // It was never shown a letter: every miss is a printed word.
        expect(
          wrong.every((image) => image.startsWith('the word')),
          wrong.join('; '),
        ).toBe(true);
        expect(check.correct).toBeGreaterThanOrEqual(15);
        expect(check.passed).toBe(true);
      }
    },
    ORT_TIMEOUT,
  );
});

describeWithInputs(
  'the check on broken models (onnxruntime-web, WASM)',
  [RANDOM, RECIPE],
  'models/.artifacts/hub-demo: written by models/tests/test_hub_recipe.py',
  () => {
    it(
      'random weights (the converter’s files of a random checkpoint) fail it',
      async () => {
        const ort = await importOrt();
        for (const dtype of ['int8', 'q4'] as const) {
          const check = await checkStoredModel(ort, folderStore(RANDOM), readManifest(RANDOM), dtype);
          expect(check.correct).toBeLessThan(MIN_SHARE * check.total);
          expect(check.passed).toBe(false);
        }
      },
      ORT_TIMEOUT,
    );

    it(
      'one weight transposed in the demo model, as a mis-mapped checkpoint would build it, fails it',
      async () => {
        const ort = await importOrt();
        const recipe = validateRecipe(JSON.parse(readFileSync(RECIPE, 'utf8')), RECIPE);
        const holesOf = (tower: 'image' | 'text') =>
          recipe.outputs.find((o) => o.tower === tower && o.dtype === 'int8')!.holes;
        const cases = [
          { tower: 'image', hub: 'visual.trunk.head.weight' },
          { tower: 'image', hub: 'visual.trunk.blocks.0.attn.proj.weight' },
          { tower: 'text', hub: 'text.text_projection' },
        ] as const;
        for (const { tower, hub } of cases) {
          // The intact demo files have the recipe's layout: the same bytes at the same offsets.
          const file = new Uint8Array(readFileSync(join(DEMO, `${tower}.int8.onnx`)));
          expect(file.length).toBe(
            recipe.outputs.find((o) => o.tower === tower && o.dtype === 'int8')!.bytes,
          );
          const store = folderStore(DEMO, {
            [`${tower}.int8.onnx`]: withTransposedWeight(file, holesOf(tower), hub),
          });
          const check = await checkStoredModel(ort, store, readManifest(DEMO), 'int8');
          expect(check.passed, `${hub} transposed: ${check.correct} of ${check.total}`).toBe(false);
        }
      },
      ORT_TIMEOUT,
    );
  },
);

/**
 * `file` with the int8 weight made from hub tensor `hub` replaced by its transpose, quantized again as the build
 * quantizes (what a checkpoint with that square tensor stored transposed would give).
 */
function withTransposedWeight(file: Uint8Array, holes: readonly Hole[], hub: string): Uint8Array {
  const part = (name: 'q' | 'scale') =>
    holes.find((h) => h.hub === hub && h.encode.kind === 'int8_columns' && h.encode.part === name)!;
  const [qHole, scaleHole] = [part('q'), part('scale')];
  const columns = scaleHole.bytes / 4;
  const rows = qHole.bytes / columns;
  const q = new Int8Array(file.buffer, file.byteOffset + qHole.at, qHole.bytes);
  const scale = new Float32Array(file.slice(scaleHole.at, scaleHole.at + scaleHole.bytes).buffer);
  const weight = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) weight[c * rows + r] = q[r * columns + c]! * scale[c]!;
  }
  const encoded = encodeWeight({ data: weight, shape: [columns, rows] }, { kind: 'int8_columns', part: 'q' });
  const out = file.slice();
  out.set(encoded.q!, qHole.at);
  out.set(encoded.scale!, scaleHole.at);
  return out;
}
