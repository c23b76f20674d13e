/**
 * A read-only window onto the store for the Playwright suite (e2e/): `window.__evaLens.snapshot()` returns a
 * plain-JSON copy of what the e2e tests cannot read from the page itself (embeddings, per-image times, the
 * backend that really ran). It is installed only when the browser is driven by automation (`navigator.webdriver`),
 * so people using the app never get it. It offers no way to change state; its one action is a fault injection
 * (`simulateGpuLoss`) for the WebGPU fallback test.
 */
import { getEngine } from './workerClient';
import { useLensStore, type LensState } from './store';

export interface LensSnapshot {
  crossOriginIsolated: boolean;
  modelStatus: LensState['modelStatus'];
  modelError: string | null;
  model: {
    id: string;
    name: string;
    backend: string;
    dtype: string;
    threads: number;
    loadMs: number;
    loadStages: Record<string, number>;
    logitScale: number;
    probeCosine: { image: number; text: number | null };
    fallbackNotes: string[];
  } | null;
  templates: string[];
  labels: string[];
  labelEmbeddingStatus: LensState['labelEmbeddingStatus'];
  labelEmbeddingError: string | null;
  /** The embedded label set (may lag behind `labels` while a newer set is being embedded). */
  labelEmbeddings: {
    texts: string[];
    dim: number;
    vectors: number[][];
    ms: number;
    fromCache: number;
  } | null;
  images: {
    id: string;
    name: string;
    status: string;
    error: string | null;
    ms: number | null;
    fromCache: boolean;
    embedding: number[] | null;
  }[];
  run: { isRunning: boolean; total: number; embedded: number; failed: number; wasCancelled: boolean };
  notices: string[];
  activeModelId: string;
  storageKind: string | null;
  storedModels: {
    id: string;
    bytes: number;
    dtypes: string[];
    /** The manifest's facts (a hub build records its timings and probe reference here). */
    metrics: Record<string, number | string>;
    probeCosine: Record<string, { image: number; text: number }>;
  }[];
  incompleteDownloads: { modelId: string; bytes: number }[];
  /** Downloads and imports under way or stopped, by model id ('import' for an import). */
  downloads: Record<string, { status: string; loaded: number; total: number; error: string | null }>;
}

function rows(flat: Float32Array, dim: number): number[][] {
  const out: number[][] = [];
  for (let start = 0; start + dim <= flat.length; start += dim)
    out.push(Array.from(flat.subarray(start, start + dim)));
  return out;
}

function takeSnapshot(state: LensState): LensSnapshot {
  const { model, labelEmbeddings, run } = state;
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    modelStatus: state.modelStatus,
    modelError: state.modelError,
    model: model && {
      id: model.manifest.id,
      name: model.manifest.name,
      backend: model.backend,
      dtype: model.dtype,
      threads: model.threads,
      loadMs: model.loadMs,
      loadStages: { ...model.loadStages },
      logitScale: model.manifest.logitScale,
      probeCosine: { ...model.probeCosine },
      fallbackNotes: [...model.fallbackNotes],
    },
    templates: [...state.templates],
    labels: state.labels.map((label) => label.text),
    labelEmbeddingStatus: state.labelEmbeddingStatus,
    labelEmbeddingError: state.labelEmbeddingError,
    labelEmbeddings: labelEmbeddings && {
      texts: [...labelEmbeddings.labelTexts],
      dim: labelEmbeddings.dim,
      vectors: rows(labelEmbeddings.embeddings, labelEmbeddings.dim),
      ms: labelEmbeddings.ms,
      fromCache: labelEmbeddings.fromCache,
    },
    images: state.imageIds.flatMap((id) => {
      const image = state.images[id];
      if (!image) return [];
      return [
        {
          id,
          name: image.name,
          status: image.status,
          error: image.error,
          ms: image.ms,
          fromCache: image.fromCache,
          embedding: image.embedding ? Array.from(image.embedding) : null,
        },
      ];
    }),
    run: {
      isRunning: run.isRunning,
      total: run.total,
      embedded: run.embedded,
      failed: run.failed,
      wasCancelled: run.wasCancelled,
    },
    notices: state.notices.map((notice) => notice.text),
    activeModelId: state.activeModelId,
    storageKind: state.storageReport?.kind ?? null,
    storedModels: (state.storageReport?.models ?? []).map(({ id, bytes, dtypes, manifest }) => ({
      id,
      bytes,
      dtypes: [...dtypes],
      metrics: { ...manifest.metrics },
      probeCosine: Object.fromEntries(manifest.variants.map((v) => [v.dtype, { ...v.measuredProbeCosine }])),
    })),
    incompleteDownloads: (state.storageReport?.incomplete ?? []).map((item) => ({ ...item })),
    downloads: Object.fromEntries(
      Object.entries(state.transfers).map(([key, t]) => [
        key,
        { status: t.status, loaded: t.loaded, total: t.total, error: t.error },
      ]),
    ),
  };
}

declare global {
  interface Window {
    /** Present only under browser automation; see testHook.ts. */
    __evaLens?: { snapshot(): LensSnapshot; simulateGpuLoss(): Promise<{ destroyed: boolean }> };
  }
}

export function installTestHook(): void {
  if (typeof window === 'undefined' || !navigator.webdriver) return;
  Object.defineProperty(window, '__evaLens', {
    value: Object.freeze({
      snapshot: () => takeSnapshot(useLensStore.getState()),
      // Fault injection (the only thing here that acts): destroys the WebGPU device, as a driver reset would.
      simulateGpuLoss: () => getEngine().call('simulateGpuLoss', {}),
    }),
  });
}
