import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_CATALOG,
  DEMO_MODEL_ID,
  HUB_BUILDS,
  bestVariantFor,
  buildTimeText,
  hubBuildFor,
  suggestedHubBuild,
  manifestUrlFor,
  mergeCatalogs,
  parseServerCatalog,
  withTrailingSlash,
} from './catalog';

const b16 = BUILT_IN_CATALOG.find((entry) => entry.id === 'eva02-clip-b-16')!;

describe('catalog', () => {
  it('lists the demo and the EVA-CLIP models the toolchain converts, with published accuracy', () => {
    expect(BUILT_IN_CATALOG.map((entry) => [entry.id, entry.imagenetTop1])).toEqual([
      ['eva-lens-demo', null],
      ['eva02-clip-b-16', 74.7],
      ['eva02-clip-l-14', 79.8],
      ['eva02-clip-l-14-336', 80.4],
    ]);
    // B/16 sizes are measured; L/14 sizes are estimates and say so.
    expect(b16.variants.every((v) => v.measured)).toBe(true);
    expect(BUILT_IN_CATALOG[2]!.variants.some((v) => v.measured)).toBe(false);
  });

  it("reads the toolchain's catalog: known dtypes and backends, sizes from the recipes, committed recipes", () => {
    for (const entry of BUILT_IN_CATALOG) {
      expect(entry.variants.length).toBeGreaterThan(0);
      for (const variant of entry.variants) {
        expect(['fp32', 'fp16', 'int8', 'q4']).toContain(variant.dtype);
        expect(variant.backends.every((backend) => backend === 'wasm' || backend === 'webgpu')).toBe(true);
        expect(variant.bytes).toBeGreaterThan(0);
      }
    }
    expect(BUILT_IN_CATALOG.filter((entry) => entry.embedded).map((entry) => entry.id)).toEqual([
      DEMO_MODEL_ID,
    ]);
    // Built size = the recipe's int8 + q4 files of both towers + the tokenizer (npm run models -- catalog).
    expect(HUB_BUILDS.map((build) => [build.id, build.downloadBytes, build.builtBytes])).toEqual([
      ['eva02-clip-b-16-hub', 299_427_322, 307_395_875],
      ['eva02-clip-l-14-hub', 855_584_130, 860_005_405],
      ['eva02-clip-l-14-336-hub', 856_239_490, 878_027_809],
    ]);
    for (const build of HUB_BUILDS) expect(existsSync(`public/${build.recipePath}`)).toBe(true);
  });

  it('offers int8 on WASM and 4-bit on WebGPU', () => {
    expect(bestVariantFor(b16, 'wasm')?.dtype).toBe('int8');
    expect(bestVariantFor(b16, 'webgpu')?.dtype).toBe('q4');
  });

  it('puts a model at <server><id>/manifest.json, relative servers resolved against the page', () => {
    expect(manifestUrlFor(b16, 'https://models.example/eva', 'https://app.example/lens/')).toBe(
      'https://models.example/eva/eva02-clip-b-16/manifest.json',
    );
    expect(manifestUrlFor(b16, 'models/', 'https://app.example/lens/index.html')).toBe(
      'https://app.example/lens/models/eva02-clip-b-16/manifest.json',
    );
    expect(withTrailingSlash('/m')).toBe('/m/');
  });

  it("reads a server's catalog.json, skipping what is not a model", () => {
    const parsed = parseServerCatalog({
      models: [
        { id: 'hosted', name: 'Hosted', variants: [{ dtype: 'int8', bytes: 9e6 }] },
        { id: '../escape', name: 'Bad id', variants: [{ dtype: 'int8', bytes: 1 }] },
        { id: 'no-variants', name: 'None', variants: [{ dtype: 'int3', bytes: 1 }] },
        'not an object',
      ],
    });
    expect(parsed.map((entry) => entry.id)).toEqual(['hosted']);
    expect(parsed[0]!.variants).toEqual([{ dtype: 'int8', bytes: 9e6, measured: true, backends: ['wasm'] }]);
    expect(parseServerCatalog('<html>')).toEqual([]);
    expect(parseServerCatalog(null)).toEqual([]);
  });

  it('keeps built-in facts when a server lists a model with the same id', () => {
    const merged = mergeCatalogs(BUILT_IN_CATALOG, [
      { ...b16, name: 'Impostor' },
      { ...b16, id: 'extra', name: 'Extra' },
    ]);
    expect(merged.map((entry) => entry.name).slice(-2)).toEqual(['EVA02-CLIP-L/14-336', 'Extra']);
    expect(merged.find((entry) => entry.id === b16.id)?.name).toBe('EVA02-CLIP-B/16');
  });

  it('suggests B/16 from the official weights, with its measured build time and where it was measured', () => {
    const suggested = suggestedHubBuild()!;
    expect(suggested.name).toBe('EVA02-CLIP-B/16');
    expect(HUB_BUILDS.filter((entry) => entry.suggested)).toHaveLength(1);
    expect(buildTimeText(suggested.measuredBuild!)).toBe('about 42 s on a 2-core computer');
    expect(suggested.measuredBuild!.source).toMatch(/BENCHMARKS\.md/);
  });

  it('finds the hub build of a catalog model by architecture', () => {
    expect(hubBuildFor(b16)?.id).toBe('eva02-clip-b-16-hub');
    expect(hubBuildFor(BUILT_IN_CATALOG[0]!)).toBeNull();
  });
});
