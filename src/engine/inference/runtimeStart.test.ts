import { describe, expect, it } from 'vitest';
import type { OrtModule } from './backend';
import { startRuntime, tinyModelBytes } from './runtimeStart';

describe('startRuntime', () => {
  it('runs the tiny model on the WASM backend (so its bytes are a valid ONNX graph)', async () => {
    const ort = (await import('onnxruntime-web')) as OrtModule;
    const session = await ort.InferenceSession.create(tinyModelBytes(), { executionProviders: ['wasm'] });
    const x = new ort.Tensor('float32', Float32Array.of(2.5), [1]);
    const out = await session.run({ x });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2.5]);
    await session.release();
    expect(await startRuntime(ort, 'wasm')).toBeNull();
  });

  it('reports a runtime that cannot start instead of throwing', async () => {
    const broken = {
      InferenceSession: {
        create: () => Promise.reject(new Error('no WebAssembly here')),
      },
    } as unknown as OrtModule;
    const error = await startRuntime(broken, 'wasm');
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('no WebAssembly here');
  });
});
