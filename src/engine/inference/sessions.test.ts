import { describe, expect, it } from 'vitest';
import { OrtLoader, type OrtModule } from './backend';
import { BackendError } from '../../core/errors';
import { SerialQueue } from './serialQueue';
import { memoryHint, openFirstWorkingImageTower } from './sessions';
import { makeManifest } from '../../test/manifestFixture';

describe('memoryHint', () => {
  it('names a smaller dtype when a session ran out of memory, and nothing otherwise', () => {
    expect(memoryHint(new RangeError('WebAssembly.Memory(): could not allocate memory'), 'fp32')).toBe(
      ' It ran out of memory: close other tabs, or choose int8 or q4 in Models, which needs less.',
    );
    expect(memoryHint(new Error('failed to allocate a buffer of size 603979776'), 'int8')).toContain(
      'choose q4',
    );
    expect(memoryHint(new Error('Unsupported model IR version: 11'), 'fp32')).toBe('');
  });
});

describe('openFirstWorkingImageTower', () => {
  it('says a session ran out of memory, and suggests a smaller dtype, when no candidate fits', async () => {
    const manifest = makeManifest();
    const fakeOrt = {
      env: { wasm: {}, versions: { web: 'test' } },
      InferenceSession: {
        create: async () => {
          throw new RangeError('WebAssembly.Memory(): could not allocate memory');
        },
      },
    } as unknown as OrtModule;
    const attempt = openFirstWorkingImageTower({
      candidates: manifest.variants.map((variant) => ({ backend: 'wasm' as const, variant })),
      manifest,
      ortLoader: new OrtLoader(async () => fakeOrt, { numThreads: 1 }),
      queue: new SerialQueue(),
      modelBytes: async () => ({ bytes: new Uint8Array(4), checked: Promise.resolve() }),
    });
    await expect(attempt).rejects.toBeInstanceOf(BackendError);
    await expect(attempt).rejects.toThrow(
      /could not start \(WebAssembly\.Memory\(\): could not allocate memory\)\. It ran out of memory: close other tabs, or choose/,
    );
  });
});
