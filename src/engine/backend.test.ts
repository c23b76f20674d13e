import { describe, expect, it } from 'vitest';
import {
  candidateList,
  detectCapabilities,
  OrtLoader,
  wasmThreadCount,
  type BackendCapabilities,
  type OrtModule,
} from './backend';
import type { ManifestVariant } from './manifest';
import { fakeFile } from '../test/manifestFixture';

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
    expect(names(candidateList(variants, gpu([], true), 'webgpu').candidates)).toEqual(['webgpu/fp32']);
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
    expect(names(candidateList(b16, gpu([]), 'webgpu').candidates)).toEqual(['webgpu/q4', 'webgpu/fp32']);
  });

  it('honours the user override', () => {
    expect(names(candidateList(variants, gpu(['shader-f16']), 'wasm').candidates)).toEqual([
      'wasm/int8',
      'wasm/fp32',
    ]);
    expect(names(candidateList(variants, gpu([]), 'webgpu').candidates)).toEqual(['webgpu/fp32']);
    expect(candidateList(variants, noGpu, 'webgpu').candidates).toEqual([]);
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
});
