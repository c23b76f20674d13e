/**
 * What `bench/run.mjs` (Node) asks the bench page for, and what comes back. The page runs every case in a fresh
 * dedicated worker (as the app runs its engine), so each case starts a new WebAssembly runtime: its session
 * times are cold starts and its WASM memory is its own.
 */
import type { Backend, Dtype } from '../src/core/manifest';

/** onnxruntime-web settings shared by every case. */
export interface OrtCaseSettings {
  /** Absolute URL of the folder with `ort-wasm-simd-threaded.{mjs,wasm}`. */
  wasmPaths: string;
  threads: number;
}

/** One model × dtype × backend: cold start, image tower latency and throughput, text tower over many prompts. */
export interface ModelCaseRequest extends OrtCaseSettings {
  kind: 'model';
  manifestUrl: string;
  dtype: Dtype;
  backend: Backend;
  image: {
    /** Batch-1 runs after the first run, not timed (the first runs after loading are slower). */
    warmupRuns: number;
    /** Timed batch-1 runs; the median is the latency. */
    timedRuns: number;
    /** Batch sizes for throughput, each run `batchRuns` times. */
    batchSizes: number[];
    batchRuns: number;
  };
  text: {
    labels: string[];
    template: string;
    /** Prompts per text-tower run (the app's TextEmbedder default is 32). */
    batchSize: number;
    /** How many of the labels are also run padded to the context length (the baseline); 0 skips it. */
    paddedPromptCount: number;
    /**
     * Also run all labels sorted by token count before batching (not what the app does today), to show what
     * length-sorted batches would save.
     */
    sortedByLength: boolean;
    /**
     * The 80-template prompt ensemble (CLIP's ImageNet templates) over the first `classCount` labels, through
     * TextEmbedder as the app runs it; 0 skips it. The time for all labels is extrapolated from it.
     */
    ensemble: { templates: string[]; classCount: number };
    /**
     * The same class names with one template, through a fresh TextEmbedder at each of these batch sizes (tower
     * time per batch size, to tune the app's text batch per backend); empty skips it.
     */
    batchSweep: number[];
    /**
     * Time to the first ranking of a big label set (issue #19): every label × `templates` through a fresh
     * TextEmbedder at `batchSize`, measured whole (not extrapolated); null skips it.
     */
    firstRanking: { name: string; labels: string[]; templates: string[]; batchSize: number } | null;
  };
}

/** transformers.js on the peer model (bench/peerCase.ts). */
export interface PeerCaseRequest {
  kind: 'peer';
  mode: 'pipeline' | 'split';
  /** Path (on the bench server) of the folder holding the model folder (transformers.js's `env.localModelPath`). */
  modelsUrl: string;
  modelId: string;
  /** transformers.js's dtype name; 'q8' (its WASM default) loads `onnx/*_quantized.onnx`. */
  dtype: 'q8' | 'fp32';
  /** Folder of transformers.js's own onnxruntime-web WASM files. */
  wasmPaths: string;
  threads: number;
  labels: string[];
  template: string;
  /** Labels per pipeline call in the per-image timing (the pipeline embeds them at every call). */
  perImageLabelCount: number;
  warmupRuns: number;
  timedRuns: number;
}

/** MatMul micro-benchmark: the GFLOP/s this machine's WASM kernels reach (chains of `layers` MatMuls). */
export interface MatmulCaseRequest extends OrtCaseSettings {
  kind: 'matmul';
  models: { kind: string; m: number; k: number; n: number; layers: number; url: string }[];
  warmupRuns: number;
  timedRuns: number;
}

/** Decode + PIL-exact preprocessing of real photos, where the app does it (worker) or on the main thread. */
export interface PreprocessCaseRequest {
  kind: 'preprocess';
  imageUrls: string[];
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Passes over the image list; the first pass is a warm-up (JIT) and is not timed. */
  passes: number;
}

/**
 * Phone-size JPEGs through the app's own image path (hash, decode, pixels, thumbnail, preprocess, tower), one
 * model × dtype on WASM: the time of each stage per photo, and images per second end to end through
 * `embedImageFiles` (the loop the worker runs for a dropped folder, with its look-ahead).
 */
export interface PhotoCaseRequest extends OrtCaseSettings {
  kind: 'photos';
  manifestUrl: string;
  dtype: Dtype;
  photos: { url: string; label: string }[];
  /** The app's thumbnail size (THUMBNAIL_SIZE). */
  thumbnailSize: number;
  /** The app's image batch size on WASM. */
  batchSize: number;
  /** Passes of the stage-by-stage loop; the first is a warm-up and is not timed. */
  passes: number;
  /** End-to-end runs per photo size, all timed (the stage loop before them warms everything up). */
  endToEndRuns: number;
}

/** Median milliseconds of one photo's stages; `decodeOnly`…`thumbnail` come from decodeImageFile's own timings. */
export interface PhotoStageTimes {
  hash: number;
  /** The browser's decoder (createImageBitmap, EXIF orientation applied). */
  decode: number;
  /** Reading the pixels out of the bitmap (and, on the reduced path, the box reduce). */
  pixels: number;
  thumbnail: number;
  /** The rest of the reference recipe (bicubic, crop, normalisation). */
  preprocess: number;
  /** The image tower at batch 1 (timed on the app's path; both paths give it the same floats). */
  tower: number;
}

export interface PhotoCaseResult {
  kind: 'photos';
  modelId: string;
  dtype: Dtype;
  threadsUsed: number | null;
  /** Per photo size: the stages on the path the app takes now (`reduced`) and on the old full-resolution path. */
  sizes: {
    label: string;
    width: number;
    height: number;
    photos: number;
    meanBytes: number;
    reduced: PhotoStageTimes;
    fullResolution: PhotoStageTimes;
    /** Largest |Δ| between the two paths' pixel_values over the photos (0: the same bytes reached the model). */
    maxAbsDiffReducedVsFull: number;
    /** Medians of every step decodeImageFile timed on the reduced path, sub-steps included ('pixels:read', …). */
    detailMs: Record<string, number>;
    /** Through embedImageFiles with an embedding cache (so with hashing), as the worker runs a dropped folder. */
    endToEnd: {
      runs: { ms: number; imagesPerSecond: number }[];
      medianImagesPerSecond: number;
      /** The ceiling: the tower alone on prepared photos, same batches, measured just before the runs. */
      towerOnlyImagesPerSecond: number;
    };
  }[];
}

/** Sizes in bytes read from inside the case (null where this browser does not expose them). */
export interface MemoryReading {
  /** The WebAssembly.Memory of onnxruntime-web (it only grows, so the last reading is the peak). */
  wasmBytes: number | null;
  /** `performance.memory.usedJSHeapSize` of the worker, where Chromium exposes it. */
  jsHeapUsedBytes: number | null;
}

export interface TimedRuns {
  ms: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
}

export interface TextBatchTiming {
  batch: number;
  seqLen: number;
  ms: number;
}

export interface ModelCaseResult {
  kind: 'model';
  modelId: string;
  modelName: string;
  dtype: Dtype;
  backend: Backend;
  /** The WebGPU adapter as the engine sees it (null on WASM). */
  gpu: { features: string[]; isFallbackAdapter: boolean } | null;
  threadsRequested: number;
  /** `ort.env.wasm.numThreads` after the runtime started. */
  threadsUsed: number | null;
  crossOriginIsolated: boolean;
  fileBytes: { image: number; text: number };
  /** Fetch from the local server + sha256 check of both towers and the tokenizer (not part of the cold start). */
  downloadMs: number;
  /**
   * The cold start: both `InferenceSession.create` calls, as the engine's `createSessions` makes them (the first
   * one also starts the WASM runtime in this fresh worker).
   */
  sessionMs: number;
  image: {
    /** The very first batch-1 run (the manifest probe image), separately: it is much slower than the rest. */
    firstRunMs: number;
    probeCosine: number;
    minProbeCosine: number;
    warmupMs: number[];
    batch1: TimedRuns;
    batches: { batch: number; runs: TimedRuns }[];
  };
  text: {
    probeCosine: number;
    contextLength: number;
    /** All labels at real length: TextEmbedder (tokenizer + batches padded to their longest prompt). */
    realLength: {
      prompts: number;
      /** Mean token count of the prompts themselves (SOT and EOT included), before any padding. */
      meanTokens: number;
      totalMs: number;
      towerMs: number;
      batches: TextBatchTiming[];
    };
    /** The first `prompts` labels, every prompt padded to the context length (the baseline). */
    paddedToContext: {
      prompts: number;
      towerMs: number;
      batches: TextBatchTiming[];
      /** Largest 1 − cosine between a padded prompt's embedding and its real-length one (padding must not matter). */
      maxCosineGap: number;
    } | null;
    /** All (distinct) prompts sorted by token count, then batched: tower time only. */
    sortedByLength: {
      prompts: number;
      towerMs: number;
      batches: TextBatchTiming[];
      maxCosineGap: number;
    } | null;
    /** The template ensemble over the first `classes` labels (templates × classes prompts). */
    ensemble: {
      classes: number;
      templates: number;
      prompts: number;
      meanTokens: number;
      totalMs: number;
      towerMs: number;
    } | null;
    batchSweep: { batchSize: number; prompts: number; totalMs: number; towerMs: number }[];
    firstRanking: {
      name: string;
      labels: number;
      templates: number;
      prompts: number;
      batchSize: number;
      meanTokens: number;
      totalMs: number;
      towerMs: number;
      /** Sequence lengths the length-sorted batches ran at (the text graph's sequence axis is dynamic). */
      seqLens: number[];
    } | null;
  };
  memory: { afterSessions: MemoryReading; afterImage: MemoryReading; afterText: MemoryReading };
}

export interface MatmulCaseResult {
  kind: 'matmul';
  threadsUsed: number | null;
  results: {
    kind: string;
    m: number;
    k: number;
    n: number;
    layers: number;
    sessionMs: number;
    runs: TimedRuns;
    gflops: number;
    /** Cosine of the output to the fp32 graph's (same weights and input). */
    cosineToFp32: number | null;
  }[];
}

export interface PreprocessCaseResult {
  kind: 'preprocess';
  where: 'worker' | 'main-thread';
  images: { url: string; width: number; height: number; decodeMs: number[]; preprocessMs: number[] }[];
  /** Mean over images of the median decode + preprocess time. */
  meanMsPerImage: number;
}

export interface PeerCaseResult {
  kind: 'peer';
  mode: PeerCaseRequest['mode'];
  /** transformers.js's `env.version` and its onnxruntime-web's. */
  version: string;
  ortVersion: string | null;
  dtype: PeerCaseRequest['dtype'];
  threadsUsed: number | null;
  /** The dynamic import of the library (its bundle from the local server). */
  importMs: number;
  /** `pipeline(...)`, or the tokenizer, processor and both towers' `from_pretrained` side by side: fetch + sessions. */
  loadMs: number;
  firstRunMs: number;
  /** One image: the pipeline call (with `perImageLabels` labels), or processor + vision tower (split). */
  perImage: TimedRuns;
  perImageLabels: number;
  /** split only: the vision tower on prepared pixels. */
  imageTowerOnly: TimedRuns | null;
  labels: number;
  /** All labels: one pipeline call with one image, or tokenizer + text tower in one call (split). */
  allLabelsMs: number;
  memory: { afterLoad: MemoryReading; afterRuns: MemoryReading };
}

export type WorkerReply = { ok: true; result: WorkerResult } | { ok: false; error: string };

/** What the page offers `run.mjs` through `page.evaluate`. */
export interface BenchPageApi {
  environment(): { crossOriginIsolated: boolean; hardwareConcurrency: number; userAgent: string };
  /** Runs a request in a fresh worker, which is terminated afterwards. */
  inWorker(request: WorkerRequest): Promise<WorkerResult>;
  /** The same preprocessing on the page's main thread (the baseline's way). */
  preprocessOnMainThread(request: PreprocessCaseRequest): Promise<PreprocessCaseResult>;
}

export type WorkerRequest =
  ModelCaseRequest | MatmulCaseRequest | PreprocessCaseRequest | PeerCaseRequest | PhotoCaseRequest;

export type WorkerResult =
  ModelCaseResult | MatmulCaseResult | PreprocessCaseResult | PeerCaseResult | PhotoCaseResult;
