import { describe, expect, it } from 'vitest';
import {
  candidateList,
  checkWebGpuDevice,
  detectCapabilities,
  OrtLoader,
  wasmThreadCount,
  type BackendCapabilities,
  type OrtModule,
} from './backend';
import type { ManifestVariant } from '../../core/manifest';
import { fakeFile } from '../../test/manifestFixture';

function variant(
  dtype: ManifestVariant['dtype'],
  backends: ManifestVariant['backends'],
  requiredFeatures: string[] = [],
): ManifestVariant {
  return {
    dtype,
    backends,
    requiredFeatures,
    imageModel: fakeFile(`image.${dtype}.onnx`),
    textModel: fakeFile(`text.${dtype}.onnx`),
    minProbeCosine: 0.99,
    measuredProbeCosine: { image: 1, text: 1 },
  };
}

const variants = [
  variant('fp16', ['webgpu'], ['shader-f16']),
  variant('int8', ['wasm']),
  variant('fp32', ['webgpu', 'wasm']),
];
const gpu = (features: string[], gpuIsFallback = false): BackendCapabilities => ({
  webgpu: true,
  gpuFeatures: features,
  gpuIsFallback,
  webgpuUnavailableReason: null,
  wasmThreads: 4,
});
const noGpu: BackendCapabilities = {
  webgpu: false,
  gpuFeatures: [],
  gpuIsFallback: false,
  webgpuUnavailableReason: 'this browser has no WebGPU',
  wasmThreads: 1,
};
const names = (list: { backend: string; variant: ManifestVariant }[]) =>
  list.map((c) => `${c.backend}/${c.variant.dtype}`);

describe('wasmThreadCount', () => {
  it('uses up to 4 cores only when cross-origin isolated', () => {
    expect(wasmThreadCount(8, true)).toBe(4);
    expect(wasmThreadCount(2, true)).toBe(2);
    expect(wasmThreadCount(8, false)).toBe(1);
    expect(wasmThreadCount(undefined, true)).toBe(1);
  });
});

describe('detectCapabilities', () => {
  it('records the adapter features', async () => {
    const caps = await detectCapabilities({
      gpu: { requestAdapter: async () => ({ features: new Set(['shader-f16', 'float32-filterable']) }) },
      hardwareConcurrency: 2,
      crossOriginIsolated: true,
    });
    expect(caps).toEqual({
      webgpu: true,
      gpuFeatures: ['float32-filterable', 'shader-f16'],
      gpuIsFallback: false,
      webgpuUnavailableReason: null,
      wasmThreads: 2,
    });
  });

  it('notices a software (fallback) adapter, in both places browsers report it', async () => {
    const viaInfo = await detectCapabilities({
      gpu: {
        requestAdapter: async () => ({
          features: [],
          info: { isFallbackAdapter: true, architecture: 'swiftshader' },
        }),
      },
    });
    expect(viaInfo.gpuIsFallback).toBe(true);
    const legacy = await detectCapabilities({
      gpu: { requestAdapter: async () => ({ features: [], isFallbackAdapter: true }) },
    });
    expect(legacy.gpuIsFallback).toBe(true);
  });

  it('explains why WebGPU is missing', async () => {
    expect((await detectCapabilities({})).webgpuUnavailableReason).toBe('this browser has no WebGPU');
    expect(
      (await detectCapabilities({ gpu: { requestAdapter: async () => null } })).webgpuUnavailableReason,
    ).toMatch(/no WebGPU adapter/);
    const throwing = await detectCapabilities({
      gpu: { requestAdapter: () => Promise.reject(new Error('blocked')) },
    });
    expect(throwing.webgpu).toBe(false);
    expect(throwing.webgpuUnavailableReason).toMatch(/blocked/);
  });
});

describe('candidateList', () => {
  it('tries WebGPU variants first, then WASM, in manifest order', () => {
    const { candidates, skipped } = candidateList(variants, gpu(['shader-f16']), 'auto');
    expect(names(candidates)).toEqual(['webgpu/fp16', 'webgpu/fp32', 'wasm/int8', 'wasm/fp32']);
    expect(skipped).toEqual([]);
  });

  it('skips variants whose GPU features are missing, saying why', () => {
    const { candidates, skipped } = candidateList(variants, gpu([]), 'auto');
    expect(names(candidates)).toEqual(['webgpu/fp32', 'wasm/int8', 'wasm/fp32']);
    expect(skipped).toEqual(["WebGPU fp16 needs the GPU feature 'shader-f16', which this GPU lacks."]);
  });

  it('falls back to WASM without WebGPU', () => {
    const { candidates, skipped } = candidateList(variants, noGpu, 'auto');
    expect(names(candidates)).toEqual(['wasm/int8', 'wasm/fp32']);
    expect(skipped).toEqual(['WebGPU is not used: this browser has no WebGPU.']);
  });

  it("skips a software WebGPU adapter for 'auto' but not when WebGPU is chosen", () => {
    const auto = candidateList(variants, gpu(['shader-f16'], true), 'auto');
    expect(names(auto.candidates)).toEqual(['wasm/int8', 'wasm/fp32']);
    expect(auto.skipped).toEqual([
      'WebGPU is not used: the only adapter is a software fallback, slower than WASM.',
    ]);
    expect(names(candidateList(variants, gpu([], true), 'webgpu').candidates)).toEqual([
      'webgpu/fp32',
      'wasm/int8',
      'wasm/fp32',
    ]);
  });

  it('ranks variants by the backend they name first, then by the fastest kernels there, not manifest order', () => {
    // The toolchain writes fp32 first; on WASM int8 must still come first and q4 before fp32.
    const b16 = [
      variant('fp32', ['webgpu', 'wasm']),
      variant('fp16', ['webgpu'], ['shader-f16']),
      variant('int8', ['wasm']),
      variant('q4', ['webgpu', 'wasm']),
    ];
    expect(names(candidateList(b16, noGpu, 'auto').candidates)).toEqual([
      'wasm/int8',
      'wasm/q4',
      'wasm/fp32',
    ]);
    expect(names(candidateList(b16, gpu([]), 'webgpu').candidates)).toEqual([
      'webgpu/q4',
      'webgpu/fp32',
      'wasm/int8',
      'wasm/q4',
      'wasm/fp32',
    ]);
  });

  it('honours the user override', () => {
    expect(names(candidateList(variants, gpu(['shader-f16']), 'wasm').candidates)).toEqual([
      'wasm/int8',
      'wasm/fp32',
    ]);
    expect(names(candidateList(variants, gpu([]), 'webgpu').candidates)).toEqual([
      'webgpu/fp32',
      'wasm/int8',
      'wasm/fp32',
    ]);
  });

  it('keeps WASM behind a chosen WebGPU that is missing, and says why', () => {
    const missing = candidateList(variants, noGpu, 'webgpu');
    expect(names(missing.candidates)).toEqual(['wasm/int8', 'wasm/fp32']);
    expect(missing.skipped).toEqual(['WebGPU is not used: this browser has no WebGPU.']);
    const gpuOnly = [variant('fp16', ['webgpu'], ['shader-f16'])];
    expect(candidateList(gpuOnly, noGpu, 'webgpu').candidates).toEqual([]);
  });
});

describe('OrtLoader', () => {
  function fakeOrt(): OrtModule {
    return { env: { wasm: {} } } as unknown as OrtModule;
  }

  it('configures the runtime once and reuses the WebGPU build for WASM', async () => {
    const imported: string[] = [];
    const loader = new OrtLoader(
      async (backend) => {
        imported.push(backend);
        return fakeOrt();
      },
      { wasmPaths: '/app/ort/', numThreads: 3 },
    );
    const webgpu = await loader.load('webgpu');
    expect(webgpu.env.wasm.numThreads).toBe(3);
    expect(webgpu.env.wasm.wasmPaths).toBe('/app/ort/');
    expect(await loader.load('wasm')).toBe(webgpu);
    expect(await loader.load('webgpu')).toBe(webgpu);
    expect(imported).toEqual(['webgpu']);
  });

  it('loads only the WASM build when WebGPU is not used', async () => {
    const imported: string[] = [];
    const loader = new OrtLoader(
      async (backend) => {
        imported.push(backend);
        return fakeOrt();
      },
      { numThreads: 1 },
    );
    const wasm = await loader.load('wasm');
    expect(wasm.env.wasm.wasmPaths).toBeUndefined();
    expect(imported).toEqual(['wasm']);
  });

  it("keeps WebGPU's first start error (later sessions only say one is being created) and still starts WASM", async () => {
    const created: string[] = [];
    const ort = {
      env: { wasm: {} },
      InferenceSession: {
        create: async (_bytes: Uint8Array, options: { executionProviders: string[] }) => {
          const provider = options.executionProviders[0]!;
          created.push(provider);
          if (provider !== 'webgpu') return { release: async () => undefined };
          throw new Error(
            created.length === 1
              ? 'requestDevice failed'
              : 'another WebGPU EP inference session is being created.',
          );
        },
      },
    } as unknown as OrtModule;
    const loader = new OrtLoader(async () => ort, { numThreads: 2 });
    await expect(loader.start('webgpu')).rejects.toThrow('requestDevice failed');
    await expect(loader.start('webgpu')).rejects.toThrow('requestDevice failed');
    expect(await loader.start('wasm')).toBe(ort);
    expect(created).toEqual(['webgpu', 'wasm']);
  });
});

describe('checkWebGpuDevice', () => {
  it('says in words which step of getting a WebGPU device failed', async () => {
    await expect(checkWebGpuDevice(undefined)).rejects.toThrow('this browser has no WebGPU');
    await expect(
      checkWebGpuDevice({ requestAdapter: () => Promise.reject(new Error('driver crashed')) }),
    ).rejects.toThrow('requesting a WebGPU adapter failed: driver crashed');
    await expect(checkWebGpuDevice({ requestAdapter: async () => null })).rejects.toThrow(
      'no WebGPU adapter is available',
    );
    const refusing = { requestDevice: () => Promise.reject(new Error('device limit')) };
    await expect(checkWebGpuDevice({ requestAdapter: async () => refusing })).rejects.toThrow(
      'the WebGPU adapter gave no device: device limit',
    );
  });

  it('gives the device back at once', async () => {
    let destroyed = 0;
    const adapter = { requestDevice: async () => ({ destroy: () => destroyed++ }) };
    await checkWebGpuDevice({ requestAdapter: async () => adapter });
    expect(destroyed).toBe(1);
  });

  it("runs before WebGPU's runtime starts, and its error is kept", async () => {
    let checks = 0;
    const ort = {
      env: { wasm: {} },
      InferenceSession: { create: async () => ({ release: async () => undefined }) },
    };
    const loader = new OrtLoader(async () => ort as unknown as OrtModule, {
      numThreads: 1,
      checkWebGpuDevice: async () => {
        checks++;
        throw new Error('the WebGPU adapter gave no device: lost');
      },
    });
    await expect(loader.start('webgpu')).rejects.toThrow('gave no device: lost');
    await expect(loader.start('webgpu')).rejects.toThrow('gave no device: lost');
    expect(checks).toBe(1);
    await expect(loader.start('wasm')).resolves.toBe(ort);
  });
});
