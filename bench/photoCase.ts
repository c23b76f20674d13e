/**
 * Phone-size JPEGs (bench/make_photos.py) through the app's own image path: the stages one photo at a time (hash,
 * the browser's decoder, reading the pixels, thumbnail, preprocessing, the tower at batch 1), on the path the app
 * takes (strip-wise box reduce while reading, thumbnail from the reduced pixels) and on the old full-resolution
 * path for comparison; then images per second end to end through `embedImageFiles`, the loop the worker runs for
 * a dropped folder (hashing for the embedding cache, decoding ahead of the tower, batches of the app's size).
 */
import { OrtLoader, importBrowserOrt } from '../src/engine/inference/backend';
import { decodeImageFile, type DecodeOptions } from '../src/engine/image/decode';
import { MemoryEmbeddingCache, fileSha256 } from '../src/engine/storage/embeddingCache';
import { embedImageFiles } from '../src/engine/image/imageBatches';
import { ImageEmbedder } from '../src/engine/image/imageEmbedder';
import type { ManifestFile } from '../src/core/manifest';
import { fetchVerified, loadManifest, resolveModelFileUrl } from '../src/engine/library/manifestLoader';
import { createSessions, releaseSessions, runImageTower } from '../src/engine/inference/sessions';
import { StageTimings } from '../src/engine/inference/stageTimings';
import type { PhotoCaseRequest, PhotoCaseResult, PhotoStageTimes } from './protocol';
import { median } from './stats';

type StageSamples = { [K in keyof PhotoStageTimes]: number[] };

const emptySamples = (): StageSamples => ({
  hash: [],
  decode: [],
  pixels: [],
  thumbnail: [],
  preprocess: [],
  tower: [],
});

const medians = (samples: StageSamples): PhotoStageTimes => ({
  hash: median(samples.hash),
  decode: median(samples.decode),
  pixels: median(samples.pixels),
  thumbnail: median(samples.thumbnail),
  preprocess: median(samples.preprocess),
  tower: median(samples.tower),
});

async function timed<T>(samples: number[] | null, task: () => Promise<T> | T): Promise<T> {
  const started = performance.now();
  const value = await task();
  samples?.push(performance.now() - started);
  return value;
}

export async function runPhotoCase(request: PhotoCaseRequest): Promise<PhotoCaseResult> {
  const { manifest, manifestUrl } = await loadManifest(request.manifestUrl);
  const variant = manifest.variants.find((v) => v.dtype === request.dtype);
  if (!variant) throw new Error(`${manifest.id} has no ${request.dtype} variant.`);
  const download = (file: ManifestFile) => fetchVerified(resolveModelFileUrl(manifestUrl, file), file);
  const [imageBytes, textBytes] = await Promise.all([
    download(variant.imageModel),
    download(variant.textModel),
  ]);
  const ort = await new OrtLoader(importBrowserOrt, {
    wasmPaths: request.wasmPaths,
    numThreads: request.threads,
  }).load('wasm');
  const sessions = await createSessions(ort, 'wasm', request.dtype, imageBytes, textBytes);
  const size = manifest.image.size;
  const embedder = new ImageEmbedder(manifest.image, manifest.embedDim, (pixels, batch) =>
    runImageTower(sessions, pixels, batch, size),
  );
  try {
    const labels = [...new Set(request.photos.map((photo) => photo.label))];
    const sizes: PhotoCaseResult['sizes'] = [];
    for (const label of labels) {
      const files = await Promise.all(
        request.photos
          .filter((photo) => photo.label === label)
          .map(async ({ url }) => {
            const response = await fetch(url);
            if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
            return { name: url.slice(url.lastIndexOf('/') + 1), blob: await response.blob() };
          }),
      );
      sizes.push({ label, ...(await measureSize(files, embedder, request)) });
    }
    return {
      kind: 'photos',
      modelId: manifest.id,
      dtype: request.dtype,
      threadsUsed: ort.env.wasm.numThreads ?? null,
      sizes,
    };
  } finally {
    await releaseSessions(sessions);
  }
}

async function measureSize(
  files: { name: string; blob: Blob }[],
  embedder: ImageEmbedder,
  request: PhotoCaseRequest,
): Promise<Omit<PhotoCaseResult['sizes'][number], 'label'>> {
  const paths = {
    reduced: { samples: emptySamples(), options: { reducingFactors: embedder.reducingFactors } },
    fullResolution: { samples: emptySamples(), options: {} as DecodeOptions },
  };
  let width = 0;
  let height = 0;
  let maxAbsDiff = 0;
  const detail: Record<string, number[]> = {};
  for (let pass = 0; pass < request.passes; pass++) {
    for (const { name, blob } of files) {
      const outputs: Float32Array[] = [];
      for (const { samples: all, options } of Object.values(paths)) {
        // The first pass warms the JIT, the decoder and the session up.
        const samples = pass === 0 ? null : all;
        await timed(samples?.hash ?? null, () => fileSha256(blob));
        const stages = new StageTimings();
        const decoded = await decodeImageFile(blob, name, request.thumbnailSize, undefined, {
          ...options,
          timings: stages,
        });
        const record = stages.toRecord();
        if (samples && options.reducingFactors)
          for (const [key, ms] of Object.entries(record)) (detail[key] ??= []).push(ms);
        samples?.decode.push(record.decode ?? 0);
        samples?.pixels.push(record.pixels ?? 0);
        samples?.thumbnail.push(record.thumbnail ?? 0);
        const pixels = await timed(samples?.preprocess ?? null, () => embedder.preprocess(decoded.pixels));
        // The tower sees the same floats on both paths (checked below): timed once, on the app's path.
        if (options.reducingFactors)
          await timed(samples?.tower ?? null, () => embedder.embedPreprocessed([pixels]));
        ({ width, height } = decoded);
        outputs.push(pixels);
      }
      const [reduced, full] = outputs as [Float32Array, Float32Array];
      for (let i = 0; i < reduced.length; i++)
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(reduced[i]! - full[i]!));
    }
  }
  // The ceiling for the end-to-end rate: the tower alone on already-prepared photos, in batches of the app's size.
  const prepared = embedder.preprocess(
    (await decodeImageFile(files[0]!.blob, files[0]!.name, 0, undefined, paths.reduced.options)).pixels,
  );
  const towerStarted = performance.now();
  for (let done = 0; done < files.length; done += request.batchSize) {
    const batch = Math.min(request.batchSize, files.length - done);
    await embedder.embedPreprocessed(Array.from({ length: batch }, () => prepared));
  }
  const towerOnlyImagesPerSecond = (files.length * 1000) / (performance.now() - towerStarted);
  const runs = [];
  for (let run = 0; run < request.endToEndRuns; run++) {
    const started = performance.now();
    const result = await embedImageFiles(
      {
        images: files.map(({ name, blob }, i) => ({ imageId: `${run}-${i}`, file: blob, name })),
        thumbnailSize: request.thumbnailSize,
      },
      { image: () => undefined, failed: ({ message }) => console.error(message) },
      {
        embedder,
        decode: (file, name, thumbnailSize, options) =>
          decodeImageFile(file, name, thumbnailSize, undefined, options),
        batchSize: request.batchSize,
        isStopped: () => false,
        now: () => performance.now(),
        // A fresh cache each run: every photo is hashed and looked up, as in the app, and none is found.
        cache: { store: new MemoryEmbeddingCache(), modelKey: () => 'bench' },
      },
    );
    const ms = performance.now() - started;
    if (result.failed > 0) throw new Error(`${result.failed} photos failed end to end.`);
    // Every run is timed: the stage loop above has warmed the decoder, the JIT and the session up.
    runs.push({ ms, imagesPerSecond: (files.length * 1000) / ms });
  }
  return {
    width,
    height,
    photos: files.length,
    meanBytes: files.reduce((sum, { blob }) => sum + blob.size, 0) / files.length,
    reduced: medians(paths.reduced.samples),
    fullResolution: { ...medians(paths.fullResolution.samples), tower: medians(paths.reduced.samples).tower },
    maxAbsDiffReducedVsFull: maxAbsDiff,
    detailMs: Object.fromEntries(Object.entries(detail).map(([key, ms]) => [key, median(ms)])),
    endToEnd: {
      runs,
      medianImagesPerSecond: median(runs.map((run) => run.imagesPerSecond)),
      towerOnlyImagesPerSecond,
    },
  };
}
