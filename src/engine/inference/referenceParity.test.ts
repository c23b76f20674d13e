/**
 * onnxruntime-web (WASM, Node) against the PyTorch references written by the model toolchain:
 * - the demo model on every sample image and label (e2e/fixtures/demo-reference.json, from `train-demo`);
 * - a random-weight EVA02-CLIP-B/16 of the real shapes (models/.artifacts/eva02-b16-random, written by the pytest
 *   suite, which the full test command runs first) through its manifest probe.
 * Both go through the engine's real preprocessing, tokenizer and sessions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithInputs } from '../../test/requiredInputs';
import type { OrtModule } from './backend';
import type { FetchLike } from '../library/manifestLoader';
import { ZeroShotEngine } from './zeroShotEngine';
import { REPO_ROOT } from '../../test/preprocessFixtures';
import { decodePng } from '../../test/pngDecoder';
import { fakeDecodeImage, rawImageBlob } from '../../test/tinyModelServer';

const ORIGIN = 'http://app.test/';
const REFERENCE = join(REPO_ROOT, 'e2e', 'fixtures', 'demo-reference.json');
const B16_DIR = join(REPO_ROOT, 'models', '.artifacts', 'eva02-b16-random');

interface DemoReference {
  modelId: string;
  template: string;
  labels: string[];
  files: string[];
  pytorch: { top1: number[]; imageEmbeddings: number[][]; textEmbeddings: number[][] };
  onnx: Record<string, { top1: number[]; accuracy: number }>;
}

/** Serves `root` as the app origin's files under `prefix`. */
function serveDir(root: string, prefix: string): FetchLike {
  return async (url) => {
    const path = new URL(url).pathname;
    const file = join(root, decodeURIComponent(path.slice(prefix.length)));
    return path.startsWith(prefix) && existsSync(file)
      ? new Response(readFileSync(file))
      : new Response('not found', { status: 404 });
  };
}

function wasmEngine(fetch: FetchLike): ZeroShotEngine {
  return new ZeroShotEngine({
    fetch,
    importOrt: async () => (await import('onnxruntime-web')) as OrtModule,
    detectCapabilities: async () => ({
      webgpu: false,
      gpuFeatures: [],
      gpuIsFallback: false,
      webgpuUnavailableReason: 'Node',
      wasmThreads: 1,
    }),
    decodeImage: fakeDecodeImage,
  });
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describeWithInputs(
  'demo model vs its PyTorch reference',
  [REFERENCE],
  'committed with the demo model',
  () => {
    it('gives the same embeddings and top-1 for every sample', async () => {
      const ref = JSON.parse(readFileSync(REFERENCE, 'utf8')) as DemoReference;
      const engine = wasmEngine(serveDir(join(REPO_ROOT, 'public'), '/'));
      const loaded = await engine.load({
        source: { kind: 'url', manifestUrl: `${ORIGIN}models/${ref.modelId}/manifest.json` },
        backend: 'wasm',
      });
      const variant = loaded.manifest.variants.find((v) => v.dtype === loaded.dtype)!;
      const dim = loaded.manifest.embedDim;
      const text = await engine.embedLabels({ labels: ref.labels, templates: [ref.template] });
      // The text tower is opened (and probed) when the labels first need it.
      expect(Math.min(loaded.probeCosine.image, text.textProbeCosine ?? -1)).toBeGreaterThanOrEqual(
        variant.minProbeCosine,
      );
      const textCos = ref.labels.map((_, i) =>
        dot(text.embeddings.subarray(i * dim, (i + 1) * dim), ref.pytorch.textEmbeddings[i]!),
      );

      const images = ref.files.map((file, i) => ({
        imageId: String(i),
        name: file,
        file: rawImageBlob(
          decodePng(new Uint8Array(readFileSync(join(REPO_ROOT, 'public', 'samples', file)))),
        ),
      }));
      const embeddings: Float32Array[] = [];
      await engine.embedImages(
        { images, thumbnailSize: 0 },
        {
          image: (e) => (embeddings[Number(e.imageId)] = e.embedding),
          failed: (e) => expect.fail(e.message),
        },
      );
      const imageCos = embeddings.map((e, i) => dot(e, ref.pytorch.imageEmbeddings[i]!));
      const top1 = embeddings.map((e) => {
        const scores = ref.labels.map((_, j) => dot(e, text.embeddings.subarray(j * dim, (j + 1) * dim)));
        return scores.indexOf(Math.max(...scores));
      });
      console.info(
        `demo ${loaded.dtype}: min image cosine ${Math.min(...imageCos).toFixed(6)}, ` +
          `min text cosine ${Math.min(...textCos).toFixed(6)}, top-1 ${top1.join(',')}`,
      );
      expect(Math.min(...imageCos)).toBeGreaterThanOrEqual(0.99);
      expect(Math.min(...textCos)).toBeGreaterThanOrEqual(0.99);
      // Top-1 as the toolchain saw this dtype in onnxruntime-web: same runtime, same numbers.
      expect(top1).toEqual(ref.onnx[loaded.dtype]!.top1);
      await engine.dispose();
    }, 180_000);
  },
);

describeWithInputs(
  'random-weight EVA02-CLIP-B/16',
  [join(B16_DIR, 'manifest.json')],
  'written by pytest models/tests (the random B/16 conversion)',
  () => {
    it('loads on WASM and matches the PyTorch probe embeddings', async () => {
      const engine = wasmEngine(serveDir(B16_DIR, '/b16/'));
      const loaded = await engine.load({
        source: { kind: 'url', manifestUrl: `${ORIGIN}b16/manifest.json` },
        backend: 'wasm',
      });
      const variant = loaded.manifest.variants.find((v) => v.dtype === loaded.dtype)!;
      const textProbe =
        (await engine.embedLabels({ labels: ['a photo'], templates: ['{}'] })).textProbeCosine ?? -1;
      console.info(
        `B/16 ${loaded.backend}/${loaded.dtype}: probe cosine image ${loaded.probeCosine.image.toFixed(6)}, ` +
          `text ${textProbe.toFixed(6)}, load (image tower) ${loaded.loadMs.toFixed(0)} ms`,
      );
      expect(loaded.backend).toBe('wasm');
      expect(Math.min(loaded.probeCosine.image, textProbe)).toBeGreaterThanOrEqual(variant.minProbeCosine);
      await engine.dispose();
    }, 300_000);
  },
);
