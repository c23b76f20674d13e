/**
 * The browser build against the Python converter (issue #9), on the files the pytest suite writes
 * (models/.artifacts/hub-demo, test_hub_recipe.py; the full test command runs pytest first): a recipe made from
 * one set of random weights, a checkpoint with other weights, and `convert`'s package of that checkpoint. Filling
 * the recipe's holes from the checkpoint must give the converter's files byte for byte (fp32, int8 and q4), and the
 * fp32 build must give the converter's PyTorch probe embeddings in onnxruntime-web.
 */
import { createHash } from 'node:crypto';
import { openAsBlob, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithInputs } from '../../test/requiredInputs';
import type { ModelManifest } from '../../core/manifest';
import { probePixelValues } from '../inference/probe';
import { cosineSimilarity } from '../../core/ranking';
import { REPO_ROOT } from '../../test/preprocessFixtures';
import { assembleOutputs, type AssemblyProgress } from './assemble';
import { checkCheckpoint, checkpointSource, readCheckpointHeader, readScalar } from './checkpointSource';
import { validateRecipe } from './recipe';

const DIR = join(REPO_ROOT, 'models', '.artifacts', 'hub-demo');
const CHECKPOINT = join(DIR, 'open_clip_model.safetensors');

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describeWithInputs(
  'building the demo architecture from a hub checkpoint',
  [CHECKPOINT],
  'written by pytest models/tests/test_hub_recipe.py',
  () => {
    const load = async () => {
      const recipe = validateRecipe(
        JSON.parse(readFileSync(join(DIR, 'recipe', 'recipe.json'), 'utf8')),
        'recipe.json',
      );
      const manifest = JSON.parse(
        readFileSync(join(DIR, 'convert', 'manifest.json'), 'utf8'),
      ) as ModelManifest;
      const blob = await openAsBlob(CHECKPOINT);
      const header = await readCheckpointHeader(blob, 'open_clip_model.safetensors');
      checkCheckpoint(header, recipe, 'open_clip_model.safetensors');
      const skeletons = recipe.outputs.map(
        (output) => new Uint8Array(readFileSync(join(DIR, 'recipe', output.skeleton.path))),
      );
      return { recipe, manifest, source: checkpointSource(blob, header), skeletons };
    };

    it("gives the converter's files byte for byte, in every dtype", async () => {
      const { recipe, manifest, source, skeletons } = await load();
      const progress: AssemblyProgress[] = [];
      const files = await assembleOutputs(recipe.outputs, skeletons, source, (p) => progress.push(p));
      recipe.outputs.forEach((output, i) => {
        const variant = manifest.variants.find((v) => v.dtype === output.dtype)!;
        const expected = output.tower === 'image' ? variant.imageModel : variant.textModel;
        expect(files[i]!.length, `${output.tower}.${output.dtype}`).toBe(expected.bytes);
        expect(sha256(files[i]!), `${output.tower}.${output.dtype}`).toBe(expected.sha256);
      });
      const last = progress.at(-1)!;
      expect(last.done).toBe(last.total);
      expect(new Set(progress.map((p) => p.stage))).toEqual(new Set(['convert', 'quantize']));
      // The logit scale the manifest needs comes from the checkpoint too.
      const scale = Math.fround(Math.exp(await readScalar(source, recipe.logitScaleTensor)));
      expect(scale).toBeCloseTo(manifest.logitScale, 4);
    });

    it("the fp32 build gives the converter's PyTorch probe embeddings in onnxruntime-web", async () => {
      const { recipe, manifest, source, skeletons } = await load();
      const picked = recipe.outputs.map((o, i) => ({ o, i })).filter(({ o }) => o.dtype === 'fp32');
      const files = await assembleOutputs(
        picked.map(({ o }) => o),
        picked.map(({ i }) => skeletons[i]!),
        source,
      );
      const ort = await import('onnxruntime-web');
      for (const [k, { o }] of picked.entries()) {
        const session = await ort.InferenceSession.create(files[k]!, { executionProviders: ['wasm'] });
        const size = manifest.image.size;
        const ids = manifest.probe.textInputIds;
        const input =
          o.tower === 'image'
            ? new ort.Tensor('float32', probePixelValues(size), [1, 3, size, size])
            : new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
        const out = await session.run({ [session.inputNames[0]!]: input });
        const embedding = out[session.outputNames[0]!]!.data as Float32Array;
        const reference = o.tower === 'image' ? manifest.probe.imageEmbedding : manifest.probe.textEmbedding;
        expect(cosineSimilarity(embedding, reference), o.tower).toBeGreaterThanOrEqual(0.9999);
        await session.release();
      }
    });
  },
);
