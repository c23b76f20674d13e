/**
 * The models the picker offers: the embedded demo model and the EVA-CLIP models `npm run models -- convert` makes,
 * plus any a model server lists in its own `catalog.json`. Facts about each model (published accuracy, licence,
 * sizes, hub builds and their measured times) are not written here: `npm run models -- catalog` writes them into
 * `src/data/catalog.json` from the toolchain's configs and hub recipes, and models/tests/test_catalog.py checks
 * that the committed file is what it writes. Where the files come from is a base URL (build-time
 * `VITE_MODEL_BASE_URL`, changeable in the picker), so no model URL is written into the engine.
 */
import type { Backend, Dtype } from '../core/manifest';
import catalogJson from '../data/catalog.json';

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

/**
 * The file the toolchain writes. The cast checks its field types against the interfaces above (not that a field is
 * there, nor that a dtype's string is a Dtype): catalog.test.ts reads every entry, pytest checks the file is what the
 * toolchain writes now.
 */
interface CatalogFile {
  /** The backends each dtype's variant is for, as the toolchain writes them into every manifest. */
  dtypeBackends: Record<Dtype, Backend[]>;
  models: CatalogEntry[];
  hubBuilds: HubBuildEntry[];
}

const CATALOG: CatalogFile = catalogJson as CatalogFile;

export const BUILT_IN_CATALOG: readonly CatalogEntry[] = CATALOG.models;

/** The id of the embedded model (served with the app, never downloaded or deleted). */
export const DEMO_MODEL_ID: string = CATALOG.models.find((entry) => entry.embedded)!.id;

/** Builds from the official checkpoints: sizes from the recipes, the checkpoint size from its names and shapes. */
export const HUB_BUILDS: readonly HubBuildEntry[] = CATALOG.hubBuilds;

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
            : CATALOG.dtypeBackends[dtype];
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
