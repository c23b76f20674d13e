/**
 * The whole browser build against a fake hub (Range requests, interruptions) and the files the pytest suite writes
 * (models/.artifacts/hub-demo): download, check, convert, quantize, store, verify, list. The built int8 and q4 files
 * are the converter's, byte for byte.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithInputs } from '../../test/requiredInputs';
import type { OrtModule } from '../inference/backend';
import { CancelledError, ModelFileError } from '../../core/errors';
import type { ModelManifest } from '../../core/manifest';
import { MemoryModelStore } from '../storage/memoryModelStore';
import type { RangeFetch } from '../library/modelDownload';
import { REPO_ROOT } from '../../test/preprocessFixtures';
import { buildFromHub, checkpointStoreId, type HubBuildProgress } from './buildFromHub';
import { validateRecipe, type HubRecipe } from './recipe';

const DIR = join(REPO_ROOT, 'models', '.artifacts', 'hub-demo');
const CHECKPOINT = join(DIR, 'open_clip_model.safetensors');
const RECIPE_URL = 'http://app.test/hub/EVA-Lens-demo/recipe.json';
const HUB = 'http://hub.test';

interface FakeHubOptions {
  checkpoint?: Uint8Array;
  /** Bytes of the checkpoint after which the connection drops (once). */
  dropAfter?: number;
}

/** The app's static files and a hub that honours Range, as the browser sees them. */
function fakeHub(options: FakeHubOptions = {}) {
  const checkpoint = options.checkpoint ?? new Uint8Array(readFileSync(CHECKPOINT));
  const ranges: (string | null)[] = [];
  let dropAfter = options.dropAfter;
  const fetch: RangeFetch = async (url, init) => {
    const { pathname, origin } = new URL(url);
    if (origin === HUB) {
      if (pathname !== '/local/EVA-Lens-demo/resolve/main/open_clip_model.safetensors') {
        return new Response('Entry not found', { status: 404 });
      }
      const range = init?.headers?.Range ?? null;
      ranges.push(range);
      const start = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
      const end = range && /-(\d+)$/.test(range) ? Number(/-(\d+)$/.exec(range)![1]) + 1 : checkpoint.length;
      const body = checkpoint.subarray(start, end);
      const headers = {
        'content-range': `bytes ${start}-${end - 1}/${checkpoint.length}`,
        'content-length': String(end - start),
        'content-type': 'application/octet-stream',
      };
      if (dropAfter !== undefined && end - start > 1) {
        const cut = dropAfter - start;
        dropAfter = undefined;
        const part = body.subarray(0, cut);
        let sent = false;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            // The bytes first, then the failure (an error right away would drop the queued bytes).
            if (sent) controller.error(new TypeError('network error'));
            else controller.enqueue(part.slice());
            sent = true;
          },
        });
        return new Response(stream, { status: 206, headers });
      }
      return new Response(new Uint8Array(body), { status: range ? 206 : 200, headers });
    }
    const local = pathname.startsWith('/hub/EVA-Lens-demo/')
      ? join(DIR, 'recipe', pathname.slice('/hub/EVA-Lens-demo/'.length))
      : join(REPO_ROOT, 'public', pathname);
    return existsSync(local) ? new Response(readFileSync(local)) : new Response('missing', { status: 404 });
  };
  return { fetch, ranges };
}

const importOrt = async () => (await import('onnxruntime-web')) as OrtModule;

function recipeWith(change: (recipe: HubRecipe) => void = () => undefined): HubRecipe {
  const recipe = validateRecipe(
    JSON.parse(readFileSync(join(DIR, 'recipe', 'recipe.json'), 'utf8')),
    'recipe',
  );
  change(recipe);
  return recipe;
}

const converted = () =>
  JSON.parse(readFileSync(join(DIR, 'convert', 'manifest.json'), 'utf8')) as ModelManifest;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describeWithInputs(
  'building a model from the hub in the browser',
  [CHECKPOINT],
  'written by pytest models/tests/test_hub_recipe.py',
  () => {
    it('downloads, converts, quantizes, verifies and lists the model; its files are the converter’s', async () => {
      const store = new MemoryModelStore();
      const hub = fakeHub();
      const stages: HubBuildProgress[] = [];
      const stored = await buildFromHub(
        { recipeUrl: RECIPE_URL, hubBaseUrl: HUB, dtypes: ['int8', 'q4'] },
        { store, fetch: hub.fetch, importOrt },
        (p) => stages.push(p),
        undefined,
        recipeWith(),
      );
      expect(stored.manifest.variants.map((v) => v.dtype)).toEqual(['int8', 'q4']);
      const reference = converted();
      for (const variant of stored.manifest.variants) {
        const expected = reference.variants.find((v) => v.dtype === variant.dtype)!;
        expect(variant.imageModel.sha256).toBe(expected.imageModel.sha256);
        expect(variant.textModel.sha256).toBe(expected.textModel.sha256);
        const bytes = new Uint8Array(
          await (await store.readFile(stored.id, variant.imageModel.path)).arrayBuffer(),
        );
        expect(sha256(bytes)).toBe(expected.imageModel.sha256);
      }
      expect(stored.manifest.logitScale).toBeCloseTo(reference.logitScale, 4);
      // Unknown checkpoint: the int8 build is the reference, q4 must agree with it.
      expect(String(stored.manifest.metrics?.probeReference)).toContain('the int8 build itself');
      expect(stored.manifest.variants[1]!.measuredProbeCosine.image).toBeGreaterThan(0.9);
      // Random weights name the drawn test pictures at about chance: the model is stored, marked (semanticCheck.ts).
      expect(stored.manifest.semanticCheck).toMatchObject({ dtype: 'int8', total: 19, passed: false });
      expect(new Set(stages.map((s) => s.stage))).toEqual(
        new Set(['download', 'convert', 'quantize', 'store', 'verify']),
      );
      // A plain GET first (no one-byte Range probe: its Content-Range may not be readable from the CDN).
      expect(hub.ranges[0]).toBeNull();
      // The checkpoint is not kept once the model is built.
      expect(
        (await store.fileInfo(checkpointStoreId(stored.id), 'open_clip_model.safetensors')).committedBytes,
      ).toBeNull();
    }, 60_000);

    it('verifies against PyTorch embeddings the toolchain recorded for the same checkpoint', async () => {
      const reference = converted();
      const checkpointSha256 = sha256(new Uint8Array(readFileSync(CHECKPOINT)));
      const int8 = reference.variants.find((v) => v.dtype === 'int8')!;
      const recipe = recipeWith((r) => {
        r.knownProbes = [
          {
            checkpointSha256,
            note: 'seed 7',
            imageEmbedding: reference.probe.imageEmbedding,
            textEmbedding: reference.probe.textEmbedding,
            files: { 'image.int8.onnx': int8.imageModel.sha256, 'text.int8.onnx': int8.textModel.sha256 },
          },
        ];
      });
      const stored = await buildFromHub(
        { recipeUrl: RECIPE_URL, hubBaseUrl: HUB, dtypes: ['int8'] },
        { store: new MemoryModelStore(), fetch: fakeHub().fetch, importOrt },
        () => undefined,
        undefined,
        recipe,
      );
      expect(stored.manifest.probe.imageEmbedding).toEqual(reference.probe.imageEmbedding);
      expect(String(stored.manifest.metrics?.probeReference)).toContain(
        'PyTorch fp32 embeddings the toolchain recorded for this checkpoint (seed 7); files identical to its convert output',
      );
      expect(stored.manifest.variants[0]!.measuredProbeCosine.image).toBeGreaterThanOrEqual(0.99);
      expect(stored.manifest.metrics?.checkpointSha256).toBe(checkpointSha256);
      // A checkpoint the toolchain knows is checked against PyTorch: the picture check is for unknown ones only.
      expect(stored.manifest.semanticCheck).toBeUndefined();
    });

    it('a build whose files differ from the toolchain’s for a known checkpoint is refused at the verify step', async () => {
      const reference = converted();
      const store = new MemoryModelStore();
      const recipe = recipeWith((r) => {
        r.knownProbes = [
          {
            checkpointSha256: sha256(new Uint8Array(readFileSync(CHECKPOINT))),
            note: 'seed 7',
            imageEmbedding: reference.probe.imageEmbedding,
            textEmbedding: reference.probe.textEmbedding,
            files: { 'image.int8.onnx': '0'.repeat(64) },
          },
        ];
      });
      await expect(
        buildFromHub(
          { recipeUrl: RECIPE_URL, hubBaseUrl: HUB, dtypes: ['int8'] },
          { store, fetch: fakeHub().fetch, importOrt },
          () => undefined,
          undefined,
          recipe,
        ),
      ).rejects.toThrow(
        /^Verifying failed: image\.int8\.onnx differs from the file the model toolchain makes/,
      );
      expect(await store.list()).toEqual([]);
    });

    it('builds in several passes when the files would not fit one (the same bytes, less memory)', async () => {
      const store = new MemoryModelStore();
      const stages: HubBuildProgress[] = [];
      const stored = await buildFromHub(
        { recipeUrl: RECIPE_URL, hubBaseUrl: HUB, dtypes: ['int8', 'q4'] },
        { store, fetch: fakeHub().fetch, importOrt, maxPassBytes: 1 },
        (p) => stages.push(p),
        undefined,
        recipeWith(),
      );
      const reference = converted();
      for (const variant of stored.manifest.variants) {
        expect(variant.imageModel.sha256).toBe(
          reference.variants.find((v) => v.dtype === variant.dtype)!.imageModel.sha256,
        );
      }
      const passNames = new Set(stages.filter((s) => s.stage === 'convert').map((s) => s.file.split(':')[0]));
      expect([...passNames]).toEqual(['image.int8', 'image.q4', 'text.int8', 'text.q4']);
    }, 60_000);

    it('a dropped connection is resumed within the build with a Range request from the bytes stored', async () => {
      const store = new MemoryModelStore();
      const hub = fakeHub({ dropAfter: 1_000_000 });
      const params = { recipeUrl: RECIPE_URL, hubBaseUrl: HUB, dtypes: ['int8' as const] };
      const stored = await buildFromHub(
        params,
        { store, fetch: hub.fetch, importOrt },
        () => undefined,
        undefined,
        recipeWith(),
      );
      expect(stored.manifest.variants).toHaveLength(1);
      expect(hub.ranges, JSON.stringify(hub.ranges)).toEqual([null, 'bytes=1000000-']);
    }, 60_000);

    it('a checkpoint of another architecture is refused before any work, naming what does not fit', async () => {
      const store = new MemoryModelStore();
      const recipe = recipeWith((r) => {
        r.tensors['text.token_embedding.weight'] = { shape: [49408, 768] };
        r.tensors['visual.trunk.not_there'] = { shape: [4] };
      });
      const error = await buildFromHub(
        { recipeUrl: RECIPE_URL, hubBaseUrl: HUB, dtypes: ['int8'] },
        { store, fetch: fakeHub().fetch, importOrt },
        () => undefined,
        undefined,
        recipe,
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelFileError);
      expect((error as Error).message).toMatch(
        /^Converting failed: open_clip_model\.safetensors is not a checkpoint of EVA-Lens-demo\. Missing: visual\.trunk\.not_there\. Wrong shape: text\.token_embedding\.weight is \[49408, 128\], expected \[49408, 768\]\./,
      );
      expect(await store.list()).toEqual([]);
    });

    it('a hub without the file says so; cancelling keeps the partial download', async () => {
      const store = new MemoryModelStore();
      await expect(
        buildFromHub(
          { recipeUrl: RECIPE_URL, hubBaseUrl: 'http://hub.test/mirror', dtypes: ['int8'] },
          { store, fetch: fakeHub().fetch, importOrt },
          () => undefined,
          undefined,
          recipeWith(),
        ),
      ).rejects.toThrow(
        /^Downloading failed: The model hub has no file at http:\/\/hub\.test\/mirror\/local\/EVA-Lens-demo\/resolve\/main\/open_clip_model\.safetensors \(HTTP 404\)/,
      );
      const controller = new AbortController();
      const build = buildFromHub(
        { recipeUrl: RECIPE_URL, hubBaseUrl: HUB, dtypes: ['int8'] },
        { store, fetch: fakeHub().fetch, importOrt },
        (p) => {
          if (p.stage === 'convert' && p.loaded === 3) controller.abort();
        },
        controller.signal,
        recipeWith(),
      );
      await expect(build).rejects.toBeInstanceOf(CancelledError);
      expect(
        (await store.fileInfo(checkpointStoreId('eva-lens-demo-hub'), 'open_clip_model.safetensors'))
          .committedBytes,
      ).toBeGreaterThan(0);
    });
  },
);
