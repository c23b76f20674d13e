import { beforeAll, describe, expect, it } from 'vitest';
import type { OrtModule } from './backend';
import { BackendError, ManifestError, ModelFileError, NotLoadedError } from '../../core/errors';
import { MemoryEmbeddingCache, type EmbeddingCache } from '../storage/embeddingCache';
import { MemoryModelStore } from '../storage/memoryModelStore';
import { downloadModel } from '../library/modelDownload';
import type { ModelStore } from '../storage/modelStore';
import { preprocessImage } from '../image/preprocess';
import { cosineSimilarity, l2Normalize } from '../../core/ranking';
import { fillTemplate } from '../../core/templates';
import { ZeroShotEngine, summarizeGpuFailure, type LoadEvent } from './zeroShotEngine';
import {
  FakeTokenizer,
  MODEL_URL,
  fakeDecodeImage,
  patternImage,
  rawImageBlob,
  tinyModelServer,
  type TinyModelServer,
} from '../../test/tinyModelServer';
import { expectedImageEmbedding, expectedTextEmbedding } from '../../test/tinyClip';
import type { ImageEmbeddedEvent, ImageFailedEvent } from '../../core/protocol';

// In Node the package's node build is the one that loads its WebAssembly; the browser builds are tested in e2e.
const importNodeOrt = async () => (await import('onnxruntime-web')) as OrtModule;
const noGpu = async () => ({
  webgpu: false,
  gpuFeatures: [],
  gpuIsFallback: false,
  webgpuUnavailableReason: 'this browser has no WebGPU',
  wasmThreads: 1,
});

function makeEngine(server: TinyModelServer, store?: ModelStore, cache?: EmbeddingCache): ZeroShotEngine {
  return new ZeroShotEngine({
    ...(store ? { openStore: async () => store } : {}),
    ...(cache ? { embeddingCache: cache } : {}),
    fetch: server.fetch,
    importOrt: importNodeOrt,
    detectCapabilities: noGpu,
    createTokenizer: () => new FakeTokenizer(),
    decodeImage: fakeDecodeImage,
  });
}

function expectClose(actual: Float32Array, expected: Float32Array, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(tolerance);
}

/** The text embedding the engine should produce for `label` with `templates`, computed without ORT. */
function expectedLabelEmbedding(server: TinyModelServer, label: string, templates: string[]): Float32Array {
  const tokenizer = new FakeTokenizer();
  const mean = new Float32Array(server.manifest.embedDim);
  for (const template of templates) {
    const embedding = l2Normalize(
      expectedTextEmbedding(server.good, tokenizer.encode(fillTemplate(template, label)).ids),
    );
    embedding.forEach((v, i) => (mean[i] = mean[i]! + v));
  }
  return l2Normalize(mean);
}

describe('ZeroShotEngine on onnxruntime-web (WASM, Node) with generated ONNX graphs', () => {
  let server: TinyModelServer;
  let engine: ZeroShotEngine;
  const events: LoadEvent[] = [];

  beforeAll(async () => {
    server = await tinyModelServer();
    engine = makeEngine(server);
  });

  it('refuses to embed before a model is loaded', async () => {
    await expect(engine.embedLabels({ labels: ['cat'], templates: ['{}'] })).rejects.toBeInstanceOf(
      NotLoadedError,
    );
  });

  it('loads, falls back past the variant that fails the probe, and says so', async () => {
    const loaded = await engine.load(
      { source: { kind: 'url', manifestUrl: MODEL_URL }, backend: 'auto' },
      (e) => events.push(e),
    );
    expect(loaded.backend).toBe('wasm');
    expect(loaded.dtype).toBe('fp32');
    expect(loaded.probeCosine.image).toBeGreaterThan(0.99999);
    // The text tower is opened when labels first need it, and probed then.
    expect(loaded.probeCosine.text).toBeNull();
    expect(loaded.fallbackNotes[0]).toBe('WebGPU is not used: this browser has no WebGPU.');
    expect(loaded.fallbackNotes[1]).toMatch(
      /^WASM int8 failed the probe \(image cosine -?\d\.\d{4}; needs 0\.999\)\.$/,
    );
    expect(loaded.threads).toBe(1);
    expect(loaded.manifest.id).toBe('tiny-test');
    const changed = events.filter((e) => e.type === 'backendChanged');
    expect(changed).toEqual([
      { type: 'backendChanged', backend: 'wasm', dtype: 'fp32', reason: loaded.fallbackNotes[1] },
    ]);
    const stages = new Set(events.map((e) => (e.type === 'loadProgress' ? e.stage : e.type)));
    expect([...stages]).toEqual(['manifest', 'download', 'session', 'probe', 'backendChanged']);
    const downloaded = events.flatMap((e) =>
      e.type === 'loadProgress' && e.stage === 'download' && e.loaded === e.total ? [e.file] : [],
    );
    // Loading reads the image towers only; the tokenizer and the text tower when labels need them.
    expect(downloaded).toEqual(['image.int8.onnx', 'image.fp32.onnx']);
  });

  it('embeds labels as the normalised mean of normalised template embeddings', async () => {
    const templates = ['a photo of a {}.', 'a drawing of the {}'];
    const result = await engine.embedLabels({
      labels: ['cat', 'red circle', 'a b c d e f g h i'],
      templates,
    });
    expect(result.dim).toBe(6);
    expect(result.embeddings).toHaveLength(18);
    expect(result.truncated).toEqual([false, false, true]);
    ['cat', 'red circle', 'a b c d e f g h i'].forEach((label, row) => {
      expectClose(
        result.embeddings.subarray(row * 6, row * 6 + 6),
        expectedLabelEmbedding(server, label, templates),
      );
    });
  });

  it('embeds images, reports each one, and keeps going past a broken file', async () => {
    const images = [patternImage(40, 30, 3), patternImage(9, 17, 5)];
    const embedded: Omit<ImageEmbeddedEvent, 'type' | 'requestId'>[] = [];
    const failed: Omit<ImageFailedEvent, 'type' | 'requestId'>[] = [];
    const result = await engine.embedImages(
      {
        images: [
          { imageId: 'a', file: rawImageBlob(images[0]!), name: 'a.png' },
          { imageId: 'broken', file: new Blob(['not an image']), name: 'notes.txt' },
          { imageId: 'b', file: rawImageBlob(images[1]!), name: 'b.png' },
        ],
        thumbnailSize: 64,
      },
      { image: (e) => embedded.push(e), failed: (e) => failed.push(e) },
    );
    expect(result).toMatchObject({ embedded: 2, failed: 1, cancelled: false });
    expect(failed).toEqual([{ imageId: 'broken', message: 'notes.txt could not be read as an image.' }]);
    expect(embedded.map((e) => [e.imageId, e.width, e.height])).toEqual([
      ['a', 40, 30],
      ['b', 9, 17],
    ]);
    images.forEach((image, i) => {
      const expected = l2Normalize(
        expectedImageEmbedding(server.good, preprocessImage(image, server.manifest.image)),
      );
      expectClose(embedded[i]!.embedding, expected);
      expect(cosineSimilarity(embedded[i]!.embedding, expected)).toBeGreaterThan(0.99999);
    });
    expect(embedded[0]!.thumbnail).toBeInstanceOf(Blob);
  });

  it('reports an image it has embedded before from the embedding cache, without decoding it', async () => {
    const cache = new MemoryEmbeddingCache();
    let decodes = 0;
    const cached = new ZeroShotEngine({
      fetch: server.fetch,
      importOrt: importNodeOrt,
      detectCapabilities: noGpu,
      createTokenizer: () => new FakeTokenizer(),
      decodeImage: (file, name) => {
        decodes++;
        return fakeDecodeImage(file, name);
      },
      embeddingCache: cache,
    });
    await cached.load({ source: { kind: 'url', manifestUrl: MODEL_URL }, backend: 'wasm' });
    const file = rawImageBlob(patternImage(20, 10, 3));
    const run = async (name: string) => {
      const seen: Omit<ImageEmbeddedEvent, 'type' | 'requestId'>[] = [];
      const result = await cached.embedImages(
        { images: [{ imageId: name, file, name }], thumbnailSize: 0 },
        { image: (e) => seen.push(e), failed: () => undefined },
      );
      return { result, event: seen[0]! };
    };
    const first = await run('first.png');
    // The same bytes under another name: a hit (the key is the content hash and the model's weights).
    const second = await run('renamed.png');
    expect(decodes).toBe(1);
    expect(first.event.fromCache).toBe(false);
    expect(second.event.fromCache).toBe(true);
    expect(second.result).toMatchObject({ embedded: 1, fromCache: 1 });
    expect(Array.from(second.event.embedding)).toEqual(Array.from(first.event.embedding));
    expect([second.event.width, second.event.height]).toEqual([20, 10]);
    expect(await cached.embeddingCacheInfo()).toEqual({ entries: 1, disabledReason: null });
    expect(await cached.clearEmbeddingCache()).toEqual({ removed: 1 });
    await run('again.png');
    expect(decodes).toBe(2);
    await cached.dispose();
  });

  it('stops between batches when cancelled (default batch: 4 images)', async () => {
    const controller = new AbortController();
    const embedded: string[] = [];
    const images = ['a', 'b', 'c', 'd', 'e', 'f'].map((imageId, i) => ({
      imageId,
      file: rawImageBlob(patternImage(12, 12, i + 1)),
      name: imageId,
    }));
    const result = await engine.embedImages(
      { images, thumbnailSize: 0 },
      {
        image: (e) => {
          embedded.push(e.imageId);
          controller.abort();
        },
        failed: () => undefined,
      },
      controller.signal,
    );
    expect(embedded).toEqual(['a', 'b', 'c', 'd']);
    expect(result).toMatchObject({ embedded: 4, failed: 0, cancelled: true });
  });

  it('batches several images per run with the same results', async () => {
    const batched = new ZeroShotEngine({
      fetch: server.fetch,
      importOrt: importNodeOrt,
      detectCapabilities: noGpu,
      createTokenizer: () => new FakeTokenizer(),
      decodeImage: fakeDecodeImage,
      imageBatchSize: { wasm: 3 },
    });
    await batched.load({ source: { kind: 'url', manifestUrl: MODEL_URL }, backend: 'wasm' });
    const images = [1, 2, 3, 4].map((seed) => patternImage(10 + seed, 10, seed));
    const embedded: Float32Array[] = [];
    await batched.embedImages(
      {
        images: images.map((image, i) => ({ imageId: String(i), file: rawImageBlob(image), name: `${i}` })),
        thumbnailSize: 0,
      },
      { image: (e) => embedded.push(e.embedding), failed: () => undefined },
    );
    expect(embedded).toHaveLength(4);
    images.forEach((image, i) => {
      expectClose(
        embedded[i]!,
        l2Normalize(expectedImageEmbedding(server.good, preprocessImage(image, server.manifest.image))),
      );
    });
    await batched.dispose();
    await expect(batched.embedLabels({ labels: ['x'], templates: ['{}'] })).rejects.toBeInstanceOf(
      NotLoadedError,
    );
  });

  it('runs on WASM when WebGPU is chosen but missing, and says why', async () => {
    const loaded = await makeEngine(server).load({
      source: { kind: 'url', manifestUrl: MODEL_URL },
      backend: 'webgpu',
    });
    expect(loaded.backend).toBe('wasm');
    expect(loaded.fallbackNotes).toContain('WebGPU is not used: this browser has no WebGPU.');
  });

  it('reports a corrupted model file by name', async () => {
    const broken = await tinyModelServer();
    for (const [url, bytes] of broken.files)
      if (url.endsWith('.onnx')) bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    await expect(
      makeEngine(broken).load({ source: { kind: 'url', manifestUrl: MODEL_URL }, backend: 'auto' }),
    ).rejects.toThrow(ModelFileError);
    await expect(
      makeEngine(broken).load({ source: { kind: 'url', manifestUrl: MODEL_URL }, backend: 'auto' }),
    ).rejects.toThrow(/image\.int8\.onnx does not match the checksum/);
  });
});

describe('ZeroShotEngine start-up: the text tower waits until labels need it', () => {
  it('ranks with remembered label embeddings without reading or opening the text tower', async () => {
    const server = await tinyModelServer();
    const cache = new MemoryEmbeddingCache();
    const source = { kind: 'url', manifestUrl: MODEL_URL } as const;
    const first = makeEngine(server, undefined, cache);
    expect((await first.load({ source, backend: 'wasm' })).probeRemembered).toBe(false);
    const computed = await first.embedLabels({ labels: ['cat', 'dog'], templates: ['{}'] });
    expect(computed.fromCache).toBe(0);
    expect(computed.textProbeCosine).toBeGreaterThan(0.99999);
    await first.dispose();

    server.requested.length = 0;
    const next = makeEngine(server, undefined, cache);
    const reloaded = await next.load({ source, backend: 'wasm' });
    // The fp32 image tower passed the probe on the first load: on WASM it is not run again.
    expect(reloaded.probeRemembered).toBe(true);
    expect(reloaded.probeCosine.image).toBeGreaterThan(0.99999);
    const remembered = await next.embedLabels({ labels: ['dog', 'cat'], templates: ['{}'] });
    expect(remembered.fromCache).toBe(2);
    expect(remembered.textProbeCosine).toBeNull();
    expect(server.requested.filter((url) => /text\.|tokenizer/.test(url))).toEqual([]);
    const dim = server.manifest.embedDim;
    expectClose(remembered.embeddings.subarray(0, dim), computed.embeddings.subarray(dim, 2 * dim));
    // A new label opens the tower; the remembered one is not computed again.
    const mixed = await next.embedLabels({ labels: ['cat', 'red circle'], templates: ['{}'] });
    expect(mixed.fromCache).toBe(1);
    expectClose(mixed.embeddings.subarray(dim), expectedLabelEmbedding(server, 'red circle', ['{}']));
    await next.dispose();
  });

  it('refuses a manifest whose graphs are for another architecture, in words', async () => {
    const server = await tinyModelServer();
    const manifest = JSON.parse(new TextDecoder().decode(server.files.get(MODEL_URL))) as {
      image: { size: number };
    };
    manifest.image.size = 16; // The graphs take 8 × 8 images.
    server.files.set(MODEL_URL, new TextEncoder().encode(JSON.stringify(manifest)));
    await expect(
      makeEngine(server).load({ source: { kind: 'url', manifestUrl: MODEL_URL }, backend: 'wasm' }),
    ).rejects.toThrow(
      /The graph does not take the input its manifest describes \(3 × 16 × 16 pixels for .*\): the files belong to another model or architecture/,
    );
  });

  it('says so when the text tower fails its probe, and images still work', async () => {
    const server = await tinyModelServer();
    const manifest = JSON.parse(new TextDecoder().decode(server.files.get(MODEL_URL))) as {
      probe: { textEmbedding: number[] };
    };
    manifest.probe.textEmbedding = manifest.probe.textEmbedding.map((v) => -v);
    server.files.set(MODEL_URL, new TextEncoder().encode(JSON.stringify(manifest)));
    const engine = makeEngine(server);
    const loaded = await engine.load({ source: { kind: 'url', manifestUrl: MODEL_URL }, backend: 'wasm' });
    expect(loaded.dtype).toBe('fp32');
    await expect(engine.embedLabels({ labels: ['cat'], templates: ['{}'] })).rejects.toThrow(
      /The text tower \(WASM fp32\) failed its probe \(cosine -1\.0000; needs 0\.999\)/,
    );
    await expect(engine.embedLabels({ labels: ['cat'], templates: ['{}'] })).rejects.toBeInstanceOf(
      BackendError,
    );
    const done: string[] = [];
    await engine.embedImages(
      {
        images: [{ imageId: 'a', name: 'a.png', file: rawImageBlob(patternImage(8, 8, 1)) }],
        thumbnailSize: 0,
      },
      { image: (e) => done.push(e.imageId), failed: (e) => expect.fail(e.message) },
    );
    expect(done).toEqual(['a']);
    await engine.dispose();
  });
});

describe('ZeroShotEngine with a model from storage', () => {
  it('loads a stored model without the network and embeds as the served one does', async () => {
    const server = await tinyModelServer();
    const store = new MemoryModelStore();
    await downloadModel(MODEL_URL, store, { dtypes: ['int8', 'fp32'], fetch: server.fetch });
    server.requested.length = 0;
    const events: LoadEvent[] = [];
    const engine = makeEngine(server, store);
    const loaded = await engine.load(
      { source: { kind: 'stored', modelId: 'tiny-test' }, backend: 'auto' },
      (e) => events.push(e),
    );
    expect(server.requested).toEqual([]);
    expect([loaded.backend, loaded.dtype, loaded.manifest.id]).toEqual(['wasm', 'fp32', 'tiny-test']);
    const read = events.flatMap((e) =>
      e.type === 'loadProgress' && e.stage === 'download' && e.loaded === e.total ? [e.file] : [],
    );
    // Only the image towers are read to load; the tokenizer and the text tower when labels need them.
    expect(read).toEqual(['image.int8.onnx', 'image.fp32.onnx']);
    const labels = await engine.embedLabels({ labels: ['cat'], templates: ['{}'] });
    expect(labels.textProbeCosine).toBeGreaterThan(0.99999);
    expectClose(labels.embeddings, expectedLabelEmbedding(server, 'cat', ['{}']));
    await engine.dispose();
  });

  it('says which stored file is damaged, and when the model is no longer stored', async () => {
    const server = await tinyModelServer();
    const store = new MemoryModelStore();
    await downloadModel(MODEL_URL, store, { dtypes: ['fp32'], fetch: server.fetch });
    const stored = await store.readFile('tiny-test', 'image.fp32.onnx');
    const damaged = new Uint8Array(await stored.arrayBuffer());
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 1;
    const partial = await store.beginWrite('tiny-test', 'image.fp32.onnx', damaged.length);
    await partial.append(damaged);
    await partial.commit();

    const engine = makeEngine(server, store);
    await expect(
      engine.load({ source: { kind: 'stored', modelId: 'tiny-test' }, backend: 'auto' }),
    ).rejects.toThrow(
      new ModelFileError(
        "image.fp32.onnx of Tiny test model is damaged in this browser's model storage (its sha256 does not match " +
          'the manifest). Delete Tiny test model in Models and download it again.',
      ),
    );
    await store.delete('tiny-test');
    await expect(
      engine.load({ source: { kind: 'stored', modelId: 'tiny-test' }, backend: 'auto' }),
    ).rejects.toThrow(
      new ManifestError(
        "The model tiny-test is not in this browser's model storage (it may have been deleted or cleared). " +
          'Download it again in Models.',
      ),
    );
  });
});

describe('summarizeGpuFailure', () => {
  it('says a lost device in words, and keeps other messages short', () => {
    const ortMessage =
      'failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: /onnxruntime/core/providers/webgpu/buffer_manager.cc:643 ' +
      "Failed to download data from buffer. wgpu::MapAsyncStatus value: 4, message: Failed to execute 'mapAsync' on " +
      "'GPUBuffer': Buffer was unmapped before mapping was resolved.";
    expect(summarizeGpuFailure(new Error(ortMessage))).toBe('the GPU device was lost');
    expect(summarizeGpuFailure(new Error('Out of GPU memory'))).toBe('Out of GPU memory');
    expect(summarizeGpuFailure(new Error('x'.repeat(200)))).toHaveLength(118);
  });
});
