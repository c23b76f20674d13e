/**
 * The models the picker offers: the embedded demo model and the EVA-CLIP models `npm run models -- convert` makes,
 * plus any a model server lists in its own `catalog.json`. Facts about each model (published accuracy, licence,
 * sizes) live here as data; where the files come from is a base URL (build-time `VITE_MODEL_BASE_URL`, changeable
 * in the picker), so no model URL is written into the engine.
 */
import type { Backend, Dtype } from '../core/manifest';

export interface CatalogVariant {
  dtype: Dtype;
  /** Image + text graph + tokenizer, in bytes. */
  bytes: number;
  /** False when the size is an estimate (scaled from a measured model by parameter count). */
  measured: boolean;
  backends: Backend[];
}

export interface CatalogEntry {
  /** The id in the model's manifest; the files live at `<base><id>/manifest.json`. */
  id: string;
  name: string;
  architecture: string;
  /** Millions of parameters (image + text towers). */
  paramsM: number | null;
  /** Published ImageNet-1k zero-shot top-1, in percent, and where it was published. */
  imagenetTop1: number | null;
  qualitySource: string;
  license: string;
  sourceUrl: string | null;
  /** One honest sentence on speed. */
  speed: string;
  variants: CatalogVariant[];
  /** Served with the app itself (`models/<id>/`), never downloaded or deleted. */
  embedded: boolean;
}

const EVA_CLIP_SOURCE = 'https://github.com/baaivision/EVA/tree/master/EVA-CLIP';
/** The CLIP tokenizer.json the toolchain writes (49,408 tokens + merges). */
const TOKENIZER_BYTES = 1_486_000;
const MB = 1_000_000;

/** EVA02-CLIP-B/16 files measured by the toolchain (image + text ONNX, random weights of the real shapes). */
const B16_BYTES: Record<Dtype, number> = {
  fp32: (347.7 + 253.9) * MB,
  fp16: (174.3 + 127.1) * MB,
  int8: (92.2 + 64.5) * MB,
  q4: (85.6 + 63.6) * MB,
};
const B16_PARAMS_M = 149.7;

/** Which backend each dtype is for: int8 kernels are fastest on WASM; 4-bit and fp16 suit WebGPU. */
const DTYPE_BACKENDS: Record<Dtype, Backend[]> = {
  int8: ['wasm'],
  q4: ['webgpu', 'wasm'],
  fp16: ['webgpu', 'wasm'],
  fp32: ['wasm', 'webgpu'],
};

function evaVariants(paramsM: number): CatalogVariant[] {
  const measured = paramsM === B16_PARAMS_M;
  return (['int8', 'q4', 'fp16', 'fp32'] as const).map((dtype) => ({
    dtype,
    bytes: Math.round((B16_BYTES[dtype] * paramsM) / B16_PARAMS_M) + TOKENIZER_BYTES,
    measured,
    backends: DTYPE_BACKENDS[dtype],
  }));
}

export const DEMO_MODEL_ID = 'eva-lens-demo';

export const BUILT_IN_CATALOG: readonly CatalogEntry[] = [
  {
    id: DEMO_MODEL_ID,
    name: 'EVA Lens demo (coloured shapes)',
    architecture: 'EVA-Lens-demo',
    paramsM: null,
    imagenetTop1: null,
    qualitySource: 'Trained by this project on synthetic shapes: 99.4% top-1 on its 48 trained prompts.',
    license: 'MIT (this project)',
    sourceUrl: null,
    speed: 'The smallest model here; its time per image on this device shows once it has classified images.',
    variants: [
      { dtype: 'int8', bytes: 8.8 * MB, measured: true, backends: ['wasm'] },
      { dtype: 'q4', bytes: 8.6 * MB, measured: true, backends: ['webgpu'] },
    ],
    embedded: true,
  },
  {
    id: 'eva02-clip-b-16',
    name: 'EVA02-CLIP-B/16',
    architecture: 'EVA02-CLIP-B-16',
    paramsM: B16_PARAMS_M,
    imagenetTop1: 74.7,
    qualitySource: 'EVA-CLIP README (open_clip measured 74.72)',
    license: 'MIT',
    sourceUrl: EVA_CLIP_SOURCE,
    speed: 'Fast: 0.37 s per image with int8 on a 2-core CPU (WASM), faster on a GPU.',
    variants: evaVariants(B16_PARAMS_M),
    embedded: false,
  },
  {
    id: 'eva02-clip-l-14',
    name: 'EVA02-CLIP-L/14',
    architecture: 'EVA02-CLIP-L-14',
    paramsM: 427.8,
    imagenetTop1: 79.8,
    qualitySource: 'EVA-CLIP README (open_clip measured 79.77)',
    license: 'MIT',
    sourceUrl: EVA_CLIP_SOURCE,
    speed: 'Slow on a CPU: about 4x the work of B/16 per image; best with WebGPU.',
    variants: evaVariants(427.8),
    embedded: false,
  },
  {
    id: 'eva02-clip-l-14-336',
    name: 'EVA02-CLIP-L/14-336',
    architecture: 'EVA02-CLIP-L-14-336',
    paramsM: 428.1,
    imagenetTop1: 80.4,
    qualitySource: 'EVA-CLIP README (open_clip measured 80.39)',
    license: 'MIT',
    sourceUrl: EVA_CLIP_SOURCE,
    speed: 'Slowest: about 9x the work of B/16 per image (336 px input); use WebGPU.',
    variants: evaVariants(428.1),
    embedded: false,
  },
];

/** The Hugging Face hub, which serves the official EVA-CLIP checkpoints with CORS and Range requests. */
export const DEFAULT_HUB_BASE_URL = 'https://huggingface.co';

/** A model the app builds in the browser from the official checkpoint on the hub (issue #9). */
export interface HubBuildEntry {
  /** The id of the model it builds (its manifest id). */
  id: string;
  name: string;
  architecture: string;
  /** The recipe, relative to the app's base URL. */
  recipePath: string;
  hubRepo: string;
  hubFile: string;
  license: string;
  imagenetTop1: number | null;
  /** Size of the checkpoint download (fp16 safetensors), and of what is stored once built (int8 + q4). */
  downloadBytes: number;
  builtBytes: number;
  /** The build offered first to a person on the demo model ("Get EVA02-CLIP-B/16"): one entry has it. */
  suggested: boolean;
  /** Build time measured in a browser (after the download), where and by what; null where none was measured. */
  measuredBuild: MeasuredBuild | null;
}

/** Seconds measured for one build, so the app can say "about N s on …" without claiming more than was measured. */
export interface MeasuredBuild {
  /** Convert + quantize + store of int8 and q4, both towers. */
  convertSeconds: number;
  /** The probe check of both dtypes (WASM). */
  verifySeconds: number;
  /** The machine, as a person would say it. */
  machine: string;
  source: string;
}

/** Where the hub build times below were measured (BENCHMARKS.md, "Building from the official weights"). */
const HUB_BENCH_MACHINE = 'a 2-core computer';

/** Sizes measured on the recipes: the checkpoint is the fp16 safetensors of the real key names and shapes. */
export const HUB_BUILDS: readonly HubBuildEntry[] = [
  {
    id: 'eva02-clip-b-16-hub',
    name: 'EVA02-CLIP-B/16',
    architecture: 'EVA02-CLIP-B-16',
    recipePath: 'hub/EVA02-CLIP-B-16/recipe.json',
    hubRepo: 'timm/eva02_base_patch16_clip_224.merged2b_s8b_b131k',
    hubFile: 'open_clip_model.safetensors',
    license: 'MIT',
    imagenetTop1: 74.7,
    downloadBytes: 299_427_322,
    builtBytes: 307_395_875,
    suggested: true,
    measuredBuild: {
      convertSeconds: 36.9,
      verifySeconds: 5.2,
      machine: HUB_BENCH_MACHINE,
      source:
        'BENCHMARKS.md, Building from the official weights: headless Chromium, 2-vCPU AMD EPYC, WASM (bench-results/2026-12-04-2cpu-amd-epyc-hub-build-b16.json, run 2)',
    },
  },
  {
    id: 'eva02-clip-l-14-hub',
    name: 'EVA02-CLIP-L/14',
    architecture: 'EVA02-CLIP-L-14',
    recipePath: 'hub/EVA02-CLIP-L-14/recipe.json',
    hubRepo: 'timm/eva02_large_patch14_clip_224.merged2b_s4b_b131k',
    hubFile: 'open_clip_model.safetensors',
    license: 'MIT',
    imagenetTop1: 79.8,
    downloadBytes: 855_584_130,
    builtBytes: 860_005_405,
    suggested: false,
    measuredBuild: {
      convertSeconds: 98.8,
      verifySeconds: 16.7,
      machine: HUB_BENCH_MACHINE,
      source:
        'BENCHMARKS.md, Building from the official weights: L/14 in Chromium with a persistent profile, 2-vCPU AMD EPYC',
    },
  },
  {
    id: 'eva02-clip-l-14-336-hub',
    name: 'EVA02-CLIP-L/14-336',
    architecture: 'EVA02-CLIP-L-14-336',
    recipePath: 'hub/EVA02-CLIP-L-14-336/recipe.json',
    hubRepo: 'timm/eva02_large_patch14_clip_336.merged2b_s6b_b61k',
    hubFile: 'open_clip_model.safetensors',
    license: 'MIT',
    imagenetTop1: 80.4,
    downloadBytes: 856_239_490,
    builtBytes: 878_027_809,
    suggested: false,
    measuredBuild: null,
  },
];

/** The build to offer a person on the demo model. */
export function suggestedHubBuild(): HubBuildEntry | null {
  return HUB_BUILDS.find((entry) => entry.suggested) ?? null;
}

/** The hub build of the same architecture as a catalog model (the road to it when no server hosts it). */
export function hubBuildFor(entry: Pick<CatalogEntry, 'architecture'>): HubBuildEntry | null {
  return HUB_BUILDS.find((build) => build.architecture === entry.architecture) ?? null;
}

/**
 * "about 42 s on a 2-core computer": the measured build time after the download, rounded, and where it was
 * measured. The device this runs on is not measured, so the sentence names the benchmark machine, not "here".
 */
export function buildTimeText(build: MeasuredBuild): string {
  return `about ${Math.round(build.convertSeconds + build.verifySeconds)} s on ${build.machine}`;
}

/** The model server the app starts with: the build's VITE_MODEL_BASE_URL, else the app's own `models/` folder. */
export function defaultModelBaseUrl(): string {
  const configured = import.meta.env.VITE_MODEL_BASE_URL;
  return withTrailingSlash(
    typeof configured === 'string' && configured !== '' ? configured : `${import.meta.env.BASE_URL}models/`,
  );
}

export function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** Absolute URL of an entry's manifest on the server at `baseUrl` (relative bases resolve against the page). */
export function manifestUrlFor(entry: Pick<CatalogEntry, 'id'>, baseUrl: string, pageUrl: string): string {
  return new URL(
    `${encodeURIComponent(entry.id)}/manifest.json`,
    new URL(withTrailingSlash(baseUrl), pageUrl),
  ).href;
}

/** The variant to offer first on `backend`: the first listed for that backend, else the smallest. */
export function bestVariantFor(entry: CatalogEntry, backend: Backend): CatalogVariant | null {
  const order: Record<Backend, Dtype[]> = {
    wasm: ['int8', 'q4', 'fp16', 'fp32'],
    webgpu: ['q4', 'fp16', 'fp32', 'int8'],
  };
  for (const dtype of order[backend]) {
    const variant = entry.variants.find((v) => v.dtype === dtype && v.backends.includes(backend));
    if (variant) return variant;
  }
  return [...entry.variants].sort((a, b) => a.bytes - b.bytes)[0] ?? null;
}

const DTYPES: readonly Dtype[] = ['fp32', 'fp16', 'int8', 'q4'];

/**
 * Reads a server's `catalog.json`: `{ "models": [ { "id", "name", "variants": [ { "dtype", "bytes" } ], … } ] }`.
 * Optional fields per model: architecture, paramsM, imagenetTop1, qualitySource, license, sourceUrl, speed; per
 * variant: backends. Entries that are not models are skipped; a file that is not a catalog gives [].
 */
export function parseServerCatalog(json: unknown): CatalogEntry[] {
  const models = (json as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) return [];
  return models.flatMap((raw): CatalogEntry[] => {
    if (typeof raw !== 'object' || raw === null) return [];
    const m = raw as Record<string, unknown>;
    if (typeof m.id !== 'string' || !/^[\w.-]+$/.test(m.id) || typeof m.name !== 'string') return [];
    const variants = Array.isArray(m.variants)
      ? m.variants.flatMap((v): CatalogVariant[] => {
          const variant = v as Record<string, unknown> | null;
          if (!variant || !DTYPES.includes(variant.dtype as Dtype) || typeof variant.bytes !== 'number')
            return [];
          const dtype = variant.dtype as Dtype;
          const backends = Array.isArray(variant.backends)
            ? (variant.backends.filter((b) => b === 'wasm' || b === 'webgpu') as Backend[])
            : DTYPE_BACKENDS[dtype];
          return [{ dtype, bytes: variant.bytes, measured: true, backends }];
        })
      : [];
    if (variants.length === 0) return [];
    const text = (value: unknown, fallback: string) => (typeof value === 'string' ? value : fallback);
    const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
    return [
      {
        id: m.id,
        name: m.name,
        architecture: text(m.architecture, 'unknown'),
        paramsM: num(m.paramsM),
        imagenetTop1: num(m.imagenetTop1),
        qualitySource: text(m.qualitySource, 'Listed by the model server.'),
        license: text(m.license, 'See the model server.'),
        sourceUrl: typeof m.sourceUrl === 'string' ? m.sourceUrl : null,
        speed: text(m.speed, 'Not measured.'),
        variants,
        embedded: false,
      },
    ];
  });
}

/** Built-in entries first; a server's entry with a built-in id is ignored (the built-in facts stay). */
export function mergeCatalogs(
  builtIn: readonly CatalogEntry[],
  fromServer: readonly CatalogEntry[],
): CatalogEntry[] {
  const known = new Set(builtIn.map((entry) => entry.id));
  return [...builtIn, ...fromServer.filter((entry) => !known.has(entry.id))];
}
