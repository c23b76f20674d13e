/**
 * One model × dtype × backend on onnxruntime-web, through the engine's own modules (sessions, tokenizer,
 * TextEmbedder), so the numbers are the app's: cold start, image-tower latency and batch throughput, and the
 * text tower over a label list at real length and padded to the context length.
 */
import { OrtLoader, detectCapabilities, importBrowserOrt } from '../src/engine/inference/backend';
import type { ManifestFile, ModelManifest } from '../src/core/manifest';
import { fetchVerified, loadManifest, resolveModelFileUrl } from '../src/engine/library/manifestLoader';
import { probePixelValues } from '../src/engine/inference/probe';
import { cosineSimilarity, l2Normalize } from '../src/core/ranking';
import {
  createSessions,
  releaseSessions,
  runImageTower,
  runTextTower,
  type ModelSessions,
} from '../src/engine/inference/sessions';
import { fillTemplate } from '../src/core/templates';
import { TextEmbedder } from '../src/engine/text/textEmbedder';
import { ClipTokenizer } from '../src/engine/text/tokenizer';
import { readMemory } from './memoryProbe';
import type { ModelCaseRequest, ModelCaseResult, TextBatchTiming } from './protocol';
import { summarizeRuns, timeRuns } from './stats';

export async function runModelCase(request: ModelCaseRequest): Promise<ModelCaseResult> {
  const { manifest, manifestUrl } = await loadManifest(request.manifestUrl);
  const variant = manifest.variants.find((v) => v.dtype === request.dtype);
  if (!variant) throw new Error(`${manifest.id} has no ${request.dtype} variant.`);

  const downloadStarted = performance.now();
  const download = (file: ManifestFile) => fetchVerified(resolveModelFileUrl(manifestUrl, file), file);
  const [imageBytes, textBytes, tokenizerBytes] = await Promise.all([
    download(variant.imageModel),
    download(variant.textModel),
    download(manifest.text.tokenizer),
  ]);
  const downloadMs = performance.now() - downloadStarted;

  const ort = await new OrtLoader(importBrowserOrt, {
    wasmPaths: request.wasmPaths,
    numThreads: request.threads,
  }).load(request.backend);
  let gpu: ModelCaseResult['gpu'] = null;
  if (request.backend === 'webgpu') {
    const capabilities = await detectCapabilities();
    if (!capabilities.webgpu) throw new Error(`No WebGPU here: ${capabilities.webgpuUnavailableReason}.`);
    gpu = { features: capabilities.gpuFeatures, isFallbackAdapter: capabilities.gpuIsFallback };
  }
  const sessionStarted = performance.now();
  const sessions = await createSessions(ort, request.backend, request.dtype, imageBytes, textBytes);
  const sessionMs = performance.now() - sessionStarted;
  const afterSessions = readMemory();
  try {
    const image = await measureImageTower(sessions, manifest, request);
    const afterImage = readMemory();
    const tokenizer = new ClipTokenizer(
      JSON.parse(new TextDecoder().decode(tokenizerBytes)) as object,
      manifest.text,
    );
    const text = await measureTextTower(sessions, manifest, tokenizer, request);
    return {
      kind: 'model',
      modelId: manifest.id,
      modelName: manifest.name,
      dtype: request.dtype,
      backend: request.backend,
      gpu,
      threadsRequested: request.threads,
      threadsUsed: ort.env.wasm.numThreads ?? null,
      crossOriginIsolated: globalThis.crossOriginIsolated,
      fileBytes: { image: variant.imageModel.bytes, text: variant.textModel.bytes },
      downloadMs,
      sessionMs,
      image: { ...image, minProbeCosine: variant.minProbeCosine },
      text,
      memory: { afterSessions, afterImage, afterText: readMemory() },
    };
  } finally {
    await releaseSessions(sessions);
  }
}

/** Every image run uses the manifest's probe image, so the first one also checks the numbers. */
async function measureImageTower(
  sessions: ModelSessions,
  manifest: ModelManifest,
  request: ModelCaseRequest,
) {
  const size = manifest.image.size;
  const probe = probePixelValues(size);
  const runBatch = (batch: number) => {
    const pixels = new Float32Array(batch * probe.length);
    for (let i = 0; i < batch; i++) pixels.set(probe, i * probe.length);
    return () => runImageTower(sessions, pixels, batch, size);
  };
  const firstStarted = performance.now();
  const firstEmbedding = await runImageTower(sessions, probe, 1, size);
  const firstRunMs = performance.now() - firstStarted;
  const warmupMs = await timeRuns(request.image.warmupRuns, runBatch(1));
  const batch1 = summarizeRuns(await timeRuns(request.image.timedRuns, runBatch(1)));
  const batches = [];
  for (const batch of request.image.batchSizes) {
    batches.push({ batch, runs: summarizeRuns(await timeRuns(request.image.batchRuns, runBatch(batch))) });
  }
  return {
    firstRunMs,
    probeCosine: cosineSimilarity(firstEmbedding, manifest.probe.imageEmbedding),
    warmupMs,
    batch1,
    batches,
  };
}

async function measureTextTower(
  sessions: ModelSessions,
  manifest: ModelManifest,
  tokenizer: ClipTokenizer,
  request: ModelCaseRequest,
): Promise<ModelCaseResult['text']> {
  const { contextLength, padTokenId } = manifest.text;
  const probeIds = BigInt64Array.from(manifest.probe.textInputIds, (id) => BigInt(id));
  const probeEmbedding = await runTextTower(sessions, probeIds, 1, probeIds.length);

  // Real length, exactly as the app embeds labels: TextEmbedder pads each batch to its longest prompt.
  const realBatches: TextBatchTiming[] = [];
  const embedder = new TextEmbedder(
    tokenizer,
    async (ids, batch, seqLen) => {
      const started = performance.now();
      const out = await runTextTower(sessions, ids, batch, seqLen);
      realBatches.push({ batch, seqLen, ms: performance.now() - started });
      return out;
    },
    manifest.embedDim,
    `${manifest.id}/${request.dtype}`,
    { batchSize: request.text.batchSize },
  );
  const { labels, template, batchSize } = request.text;
  const realStarted = performance.now();
  const { embeddings } = await embedder.embedLabels(labels, [template]);
  const realTotalMs = performance.now() - realStarted;

  const realEmbedding = (label: number) =>
    embeddings.subarray(label * manifest.embedDim, (label + 1) * manifest.embedDim);
  /** Runs prompts (label indices) in batches of `batchSize`, each row padded to `padTo(batch)`. */
  const runPadded = async (order: number[], padTo: (rows: number[][]) => number) => {
    const batches: TextBatchTiming[] = [];
    let maxCosineGap = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const chunk = order.slice(start, start + batchSize);
      const rows = chunk.map((label) => tokenizer.encode(fillTemplate(template, labels[label]!)).ids);
      const seqLen = padTo(rows);
      const ids = new BigInt64Array(chunk.length * seqLen).fill(BigInt(padTokenId));
      rows.forEach((row, r) => ids.set(row.map(BigInt), r * seqLen));
      const started = performance.now();
      const raw = await runTextTower(sessions, ids, chunk.length, seqLen);
      batches.push({ batch: chunk.length, seqLen, ms: performance.now() - started });
      chunk.forEach((label, r) => {
        const embedding = l2Normalize(raw.subarray(r * manifest.embedDim, (r + 1) * manifest.embedDim));
        maxCosineGap = Math.max(maxCosineGap, 1 - cosineSimilarity(embedding, realEmbedding(label)));
      });
    }
    return {
      prompts: order.length,
      towerMs: batches.reduce((sum, b) => sum + b.ms, 0),
      batches,
      maxCosineGap,
    };
  };

  // The baseline: the first prompts, every one padded to the context length.
  const paddedCount = Math.min(request.text.paddedPromptCount, labels.length);
  const firstLabels = Array.from({ length: paddedCount }, (_, i) => i);
  const paddedToContext = paddedCount > 0 ? await runPadded(firstLabels, () => contextLength) : null;

  // What length-sorted batches would give: distinct prompts, shortest first, each batch padded to its longest.
  let sortedByLength = null;
  if (request.text.sortedByLength) {
    const distinct = [...new Map(labels.map((label, i) => [fillTemplate(template, label), i])).values()];
    const lengths = new Map(
      distinct.map((i) => [i, tokenizer.encode(fillTemplate(template, labels[i]!)).ids.length]),
    );
    distinct.sort((a, b) => lengths.get(a)! - lengths.get(b)!);
    sortedByLength = await runPadded(distinct, (rows) => Math.max(...rows.map((row) => row.length)));
  }

  // The 80-template ensemble, as the app embeds a label with several templates (a fresh embedder: nothing cached).
  let ensemble = null;
  const { templates: ensembleTemplates, classCount } = request.text.ensemble;
  if (classCount > 0) {
    let towerMs = 0;
    let prompts = 0;
    const ensembleEmbedder = new TextEmbedder(
      tokenizer,
      async (ids, batch, seqLen) => {
        const started = performance.now();
        const out = await runTextTower(sessions, ids, batch, seqLen);
        towerMs += performance.now() - started;
        prompts += batch;
        return out;
      },
      manifest.embedDim,
      `${manifest.id}/${request.dtype}/ensemble`,
      { batchSize },
    );
    const classes = labels.slice(0, classCount);
    const started = performance.now();
    await ensembleEmbedder.embedLabels(classes, ensembleTemplates);
    const totalMs = performance.now() - started;
    const tokenCounts = classes.flatMap((label) =>
      ensembleTemplates.map((t) => tokenizer.encode(fillTemplate(t, label)).ids.length),
    );
    ensemble = {
      classes: classes.length,
      templates: ensembleTemplates.length,
      prompts,
      meanTokens: tokenCounts.reduce((a, b) => a + b, 0) / tokenCounts.length,
      totalMs,
      towerMs,
    };
  }

  // Batch sizes for the app's text batch: the class names with one template, a fresh embedder each (sorted by length).
  const batchSweep = [];
  for (const size of request.text.batchSweep) {
    const timed = timedEmbedder(sessions, tokenizer, manifest, `${request.dtype}/sweep${size}`, size);
    const started = performance.now();
    await timed.embedder.embedLabels(labels, [template]);
    batchSweep.push({
      batchSize: size,
      prompts: timed.prompts(),
      totalMs: performance.now() - started,
      towerMs: timed.towerMs(),
    });
  }

  // Time to the first ranking of a big label set, measured whole: what a person waits for after choosing it.
  let firstRanking = null;
  if (request.text.firstRanking) {
    const { name, labels: rankLabels, templates, batchSize: rankBatch } = request.text.firstRanking;
    const timed = timedEmbedder(sessions, tokenizer, manifest, `${request.dtype}/first`, rankBatch);
    const started = performance.now();
    await timed.embedder.embedLabels(rankLabels, templates);
    const totalMs = performance.now() - started;
    const tokenCounts = rankLabels.flatMap((label) =>
      templates.map((t) => tokenizer.encode(fillTemplate(t, label)).ids.length),
    );
    firstRanking = {
      name,
      labels: rankLabels.length,
      templates: templates.length,
      prompts: timed.prompts(),
      batchSize: rankBatch,
      meanTokens: tokenCounts.reduce((a, b) => a + b, 0) / tokenCounts.length,
      totalMs,
      towerMs: timed.towerMs(),
      seqLens: [...new Set(timed.seqLens())],
    };
  }

  return {
    probeCosine: cosineSimilarity(probeEmbedding, manifest.probe.textEmbedding),
    contextLength,
    realLength: {
      prompts: realBatches.reduce((sum, b) => sum + b.batch, 0),
      meanTokens:
        labels.reduce((sum, label) => sum + tokenizer.encode(fillTemplate(template, label)).ids.length, 0) /
        labels.length,
      totalMs: realTotalMs,
      towerMs: realBatches.reduce((sum, b) => sum + b.ms, 0),
      batches: realBatches,
    },
    paddedToContext,
    sortedByLength,
    ensemble,
    batchSweep,
    firstRanking,
  };
}

/** A fresh TextEmbedder (nothing cached) whose text-tower runs are counted and timed. */
function timedEmbedder(
  sessions: ModelSessions,
  tokenizer: ClipTokenizer,
  manifest: ModelManifest,
  key: string,
  batchSize: number,
) {
  let towerMs = 0;
  let prompts = 0;
  const seqLens: number[] = [];
  const embedder = new TextEmbedder(
    tokenizer,
    async (ids, batch, seqLen) => {
      const started = performance.now();
      const out = await runTextTower(sessions, ids, batch, seqLen);
      towerMs += performance.now() - started;
      prompts += batch;
      seqLens.push(seqLen);
      return out;
    },
    manifest.embedDim,
    `${manifest.id}/${key}`,
    { batchSize },
  );
  return { embedder, towerMs: () => towerMs, prompts: () => prompts, seqLens: () => seqLens };
}
