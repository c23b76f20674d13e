/**
 * Smoke test on the real demo model (public/models/eva-lens-demo, written by the training script) when it is
 * present: the real tokenizer, the real ONNX files and the manifest's own probe, on onnxruntime-web's WASM backend.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OrtModule } from './backend';
import type { FetchLike } from './manifestLoader';
import { ZeroShotEngine } from './zeroShotEngine';
import { REPO_ROOT } from '../test/preprocessFixtures';
import { decodePng } from '../test/pngDecoder';
import { fakeDecodeImage, rawImageBlob } from '../test/tinyModelServer';

const PUBLIC_DIR = join(REPO_ROOT, 'public');
const MANIFEST = join(PUBLIC_DIR, 'models', 'eva-lens-demo', 'manifest.json');
const SAMPLES = join(PUBLIC_DIR, 'samples', 'samples.json');
const ORIGIN = 'http://app.test/';

/** Serves public/ as if it were the app's origin. */
const servePublic: FetchLike = async (url) => {
  const path = join(PUBLIC_DIR, decodeURIComponent(new URL(url).pathname));
  return existsSync(path) ? new Response(readFileSync(path)) : new Response('not found', { status: 404 });
};

describe.skipIf(!existsSync(MANIFEST))('the demo model in public/models/eva-lens-demo', () => {
  it('loads on WASM, passes its probe and embeds labels and images', async () => {
    const engine = new ZeroShotEngine({
      fetch: servePublic,
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
    const loaded = await engine.load({
      manifestUrl: `${ORIGIN}models/eva-lens-demo/manifest.json`,
      backend: 'wasm',
    });
    console.info(
      `demo model: ${loaded.backend}/${loaded.dtype}, probe cosine image ${loaded.probeCosine.image.toFixed(6)} ` +
        `text ${loaded.probeCosine.text.toFixed(6)}, load ${loaded.loadMs.toFixed(0)} ms; notes: ${loaded.fallbackNotes.join(' ') || 'none'}`,
    );
    const variant = loaded.manifest.variants.find((v) => v.dtype === loaded.dtype)!;
    expect(Math.min(loaded.probeCosine.image, loaded.probeCosine.text)).toBeGreaterThanOrEqual(
      variant.minProbeCosine,
    );

    const labels = ['a red circle', 'a blue square', 'a green triangle'];
    const text = await engine.embedLabels({ labels, templates: ['a photo of {}.', '{}'] });
    expect(text.embeddings).toHaveLength(labels.length * loaded.manifest.embedDim);
    for (let row = 0; row < labels.length; row++) {
      const v = text.embeddings.subarray(row * text.dim, (row + 1) * text.dim);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    }

    const samples = existsSync(SAMPLES)
      ? (JSON.parse(readFileSync(SAMPLES, 'utf8')) as { file: string; label: string }[])
      : [];
    const images = samples.slice(0, 4).map((s, i) => {
      const png = decodePng(new Uint8Array(readFileSync(join(PUBLIC_DIR, 'samples', s.file))));
      return { imageId: String(i), file: rawImageBlob(png), name: s.file };
    });
    const embedded: Float32Array[] = [];
    const result = await engine.embedImages(
      { images, thumbnailSize: 0 },
      { image: (e) => embedded.push(e.embedding), failed: () => undefined },
    );
    expect(result).toMatchObject({ embedded: images.length, failed: 0 });
    for (const e of embedded) expect(Math.hypot(...e)).toBeCloseTo(1, 5);
    await engine.dispose();
  }, 120_000);
});
