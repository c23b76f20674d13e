/**
 * Which backend runs the model: what this browser offers (WebGPU adapter and its features, WASM threads), the
 * ordered list of (backend, variant) candidates from the manifest, and loading the matching onnxruntime-web build.
 */
import { describeError } from '../../core/errors';
import { startRuntime } from './runtimeStart';
import type { Backend, Dtype, ManifestVariant } from '../../core/manifest';
import type { BackendPreference } from '../../core/protocol';

/** onnxruntime-web's API; `onnxruntime-web/wasm` and `onnxruntime-web/webgpu` share these types. */
export type OrtModule = typeof import('onnxruntime-web');

export interface BackendCapabilities {
  /** A WebGPU adapter was found. */
  webgpu: boolean;
  /** Its features (e.g. 'shader-f16'); empty without WebGPU. */
  gpuFeatures: string[];
  /** The adapter is a software fallback (SwiftShader): it works, but far slower than WASM. */
  gpuIsFallback: boolean;
  /** Why WebGPU is not used, for the fallback notes; null when it is available. */
  webgpuUnavailableReason: string | null;
  /** WASM threads onnxruntime-web will use. */
  wasmThreads: number;
}

/** A way to run the model: one variant on one backend. */
export interface BackendCandidate {
  backend: Backend;
  variant: ManifestVariant;
}

/** The parts of a GPUAdapter read here (`isFallbackAdapter` moved into `info` in newer browsers). */
interface AdapterLike {
  features: Iterable<string>;
  info?: { isFallbackAdapter?: boolean; architecture?: string };
  isFallbackAdapter?: boolean;
}

/** The globals capability detection reads; tests pass fakes. */
export interface CapabilityEnvironment {
  gpu?: { requestAdapter(): Promise<AdapterLike | null> } | undefined;
  hardwareConcurrency?: number | undefined;
  crossOriginIsolated?: boolean | undefined;
}

/**
 * WASM threads: the logical cores, at most 4 (more rarely helps and costs memory), and only when the page is
 * cross-origin isolated (SharedArrayBuffer); otherwise onnxruntime-web can only run one thread.
 */
export function wasmThreadCount(
  hardwareConcurrency: number | undefined,
  crossOriginIsolated: boolean,
): number {
  if (!crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, Math.floor(hardwareConcurrency ?? 1)));
}

/** Reads what this worker can use. Never throws: a failing `requestAdapter` just means no WebGPU. */
export async function detectCapabilities(
  env: CapabilityEnvironment = browserEnvironment(),
): Promise<BackendCapabilities> {
  const wasmThreads = wasmThreadCount(env.hardwareConcurrency, env.crossOriginIsolated === true);
  const unavailable = (reason: string): BackendCapabilities => ({
    webgpu: false,
    gpuFeatures: [],
    gpuIsFallback: false,
    webgpuUnavailableReason: reason,
    wasmThreads,
  });
  if (!env.gpu) return unavailable('this browser has no WebGPU');
  try {
    const adapter = await env.gpu.requestAdapter();
    if (!adapter) return unavailable('no WebGPU adapter is available');
    return {
      webgpu: true,
      gpuFeatures: [...adapter.features].sort(),
      gpuIsFallback: adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
      webgpuUnavailableReason: null,
      wasmThreads,
    };
  } catch (error) {
    return unavailable(
      `requesting a WebGPU adapter failed (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

interface DeviceLike {
  destroy(): void;
}

/**
 * Asks for a WebGPU adapter and device, and gives the device back at once. onnxruntime-web asks for its own inside
 * WebAssembly, and when that fails it reports only a number; this says in words what failed.
 */
interface GpuLike {
  requestAdapter(): Promise<{ requestDevice(): Promise<DeviceLike> } | null>;
}

export async function checkWebGpuDevice(
  gpu: GpuLike | undefined = (globalThis as unknown as { navigator?: { gpu?: GpuLike } }).navigator?.gpu,
): Promise<void> {
  if (!gpu) throw new Error('this browser has no WebGPU');
  const adapter = await gpu.requestAdapter().catch((error: unknown) => {
    throw new Error(`requesting a WebGPU adapter failed: ${describeError(error)}`);
  });
  if (!adapter) throw new Error('no WebGPU adapter is available');
  const device = await adapter.requestDevice().catch((error: unknown) => {
    throw new Error(`the WebGPU adapter gave no device: ${describeError(error)}`);
  });
  device.destroy();
}

function browserEnvironment(): CapabilityEnvironment {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return {
    gpu: nav && 'gpu' in nav ? (nav.gpu as CapabilityEnvironment['gpu']) : undefined,
    hardwareConcurrency: nav?.hardwareConcurrency,
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated,
  };
}

/**
 * The candidates to try, best first: for each backend (WebGPU then WASM for 'auto' and 'webgpu', WASM alone for
 * 'wasm'), each manifest variant meant for it — variants that name this backend first in their `backends`
 * come first, then by the kernel family that runs fastest there (see DTYPE_ORDER), then in manifest order. 'auto' skips a software WebGPU adapter
 * (SwiftShader runs a ViT-B image in minutes, WASM in about a second); choosing 'webgpu' still uses it.
 * `skipped` says in words what was left out.
 */
/**
 * Which dtype to try first on each backend, when the manifest ranks two variants alike. WASM: int8 MatMulInteger
 * kernels run about 2x fp32 there, 4-bit MatMulNBits slower than fp32 (measured, see the issue #6 notes); WebGPU:
 * fp16 when the adapter has shader-f16, then 4-bit, while int8 ops fall back to the CPU.
 */
const DTYPE_ORDER: Record<Backend, readonly Dtype[]> = {
  wasm: ['int8', 'q4', 'fp32', 'fp16'],
  webgpu: ['fp16', 'q4', 'fp32', 'int8'],
};

function rankVariants(variants: readonly ManifestVariant[], backend: Backend): ManifestVariant[] {
  const order = DTYPE_ORDER[backend];
  const key = (v: ManifestVariant) => [v.backends.indexOf(backend), order.indexOf(v.dtype)] as const;
  // Array.prototype.sort is stable, so manifest order breaks the remaining ties.
  return [...variants].sort((a, b) => {
    const [ra, da] = key(a);
    const [rb, db] = key(b);
    return ra - rb || da - db;
  });
}

export function candidateList(
  variants: readonly ManifestVariant[],
  capabilities: BackendCapabilities,
  preference: BackendPreference,
): { candidates: BackendCandidate[]; skipped: string[] } {
  // Choosing WebGPU still keeps WASM behind it: a browser without WebGPU, an adapter or device request that fails,
  // or a GPU session that does not start then runs on WASM and says why, rather than not running at all.
  const backends: Backend[] = preference === 'wasm' ? ['wasm'] : ['webgpu', 'wasm'];
  const candidates: BackendCandidate[] = [];
  const skipped: string[] = [];
  for (const backend of backends) {
    if (backend === 'webgpu' && !capabilities.webgpu) {
      skipped.push(`WebGPU is not used: ${capabilities.webgpuUnavailableReason ?? 'it is unavailable'}.`);
      continue;
    }
    if (backend === 'webgpu' && capabilities.gpuIsFallback && preference === 'auto') {
      skipped.push('WebGPU is not used: the only adapter is a software fallback, slower than WASM.');
      continue;
    }
    for (const variant of rankVariants(variants, backend)) {
      if (!variant.backends.includes(backend)) continue;
      const missing =
        backend === 'webgpu'
          ? variant.requiredFeatures.filter((f) => !capabilities.gpuFeatures.includes(f))
          : [];
      if (missing.length > 0) {
        skipped.push(
          `WebGPU ${variant.dtype} needs the GPU feature ${missing.map((f) => `'${f}'`).join(', ')}, which this GPU lacks.`,
        );
        continue;
      }
      candidates.push({ backend, variant });
    }
  }
  return { candidates, skipped };
}

/** Settings applied to onnxruntime-web before its first session. */
export interface OrtSettings {
  /** Folder of the `ort-wasm-simd-threaded*.{mjs,wasm}` files (`${BASE_URL}ort/`); undefined keeps ORT's default. */
  wasmPaths?: string | undefined;
  numThreads: number;
  /** Run before WebGPU's runtime starts; its error is the one reported (see checkWebGpuDevice). */
  checkWebGpuDevice?: (() => Promise<void>) | undefined;
}

/** Imports an onnxruntime-web build; swapped in tests (Node needs the package's node build). */
export type OrtImporter = (backend: Backend) => Promise<OrtModule>;

/**
 * Browser builds: the WebGPU build only when WebGPU is used; the plain WASM build otherwise, which creates
 * sessions about twice as fast.
 */
export const importBrowserOrt: OrtImporter = (backend) =>
  backend === 'webgpu'
    ? (import('onnxruntime-web/webgpu') as Promise<OrtModule>)
    : (import('onnxruntime-web/wasm') as Promise<OrtModule>);

/**
 * Loads onnxruntime-web once per build. A WebGPU build already loaded also serves WASM candidates, so a fallback
 * does not start a second WebAssembly runtime.
 */
export class OrtLoader {
  private readonly loaded = new Map<Backend, Promise<OrtModule>>();
  private readonly started = new Map<Backend, Promise<OrtModule>>();

  constructor(
    private readonly importer: OrtImporter,
    private readonly settings: OrtSettings,
  ) {}

  load(backend: Backend): Promise<OrtModule> {
    const existing = this.loaded.get(backend) ?? (backend === 'wasm' ? this.loaded.get('webgpu') : undefined);
    if (existing) return existing;
    const loading = this.importer(backend).then((ort) => {
      // Thread count and file location are read when the WebAssembly runtime starts, i.e. at the first session.
      ort.env.wasm.numThreads = this.settings.numThreads;
      ort.env.wasm.proxy = false;
      // ORT warns on every session that shape ops run on the CPU; that is expected and would drown real problems.
      ort.env.logLevel = 'error';
      if (this.settings.wasmPaths !== undefined) ort.env.wasm.wasmPaths = this.settings.wasmPaths;
      return ort;
    });
    // A failed import is not remembered: the next load tries again.
    loading.catch(() => this.loaded.delete(backend));
    this.loaded.set(backend, loading);
    return loading;
  }

  /**
   * The build for `backend` with its runtime started (see runtimeStart.ts); once per backend. Call it as early as
   * the backend is known and await it when the first session is due.
   */
  start(backend: Backend): Promise<OrtModule> {
    let starting = this.started.get(backend);
    if (!starting) {
      let runtimeFailed = false;
      starting = this.load(backend).then(async (ort) => {
        if (backend === 'webgpu' && this.settings.checkWebGpuDevice) {
          await this.settings.checkWebGpuDevice().catch((error: unknown) => {
            runtimeFailed = true;
            throw error;
          });
        }
        const failure = await startRuntime(ort, backend);
        // A WASM start failure is left to the model's own session, which reports it in full. WebGPU cannot be
        // set up twice in one runtime, so its first error is the real one: it is kept and given to every caller.
        if (failure !== null && backend === 'webgpu') {
          runtimeFailed = true;
          throw failure;
        }
        return ort;
      });
      // A failed import is tried again by the next caller; a failed WebGPU start is not.
      starting.catch(() => {
        if (!runtimeFailed) this.started.delete(backend);
      });
      this.started.set(backend, starting);
    }
    return starting;
  }
}
