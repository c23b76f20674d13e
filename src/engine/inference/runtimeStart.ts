/**
 * Starts onnxruntime-web's runtime before the model's bytes are ready. The runtime starts at the first
 * `InferenceSession.create`: it fetches and compiles its WebAssembly (tens of MB) and starts its threads, which
 * measured 2–2.5 s of a 3.4 s B/16 image-session creation in a fresh tab here. Creating a session of a tiny graph
 * as soon as the backend is known lets that happen while the model files are still being read and checked.
 */
import type { OrtModule } from './backend';
import type { Backend } from '../../core/manifest';

/**
 * An 80-byte ONNX model: y = Identity(x), x and y float32 [1], opset 17, IR version 8. Made with the `onnx`
 * package's helper.make_graph / make_model and checked by onnx.checker (`runtimeStart.test.ts` runs it).
 */
const TINY_MODEL_BASE64 =
  'CAgSCGV2YS1sZW5zOjwKEAoBeBIBeSIISWRlbnRpdHkSBndhcm11cFoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEBE=';

export function tinyModelBytes(): Uint8Array {
  return Uint8Array.from(atob(TINY_MODEL_BASE64), (c) => c.charCodeAt(0));
}

/**
 * Creates and releases a session of the tiny model on `backend`. Never throws.
 * @returns null when the runtime started, else the error it failed with. onnxruntime-web sets up its WebGPU
 * device once per runtime: after a failure there, later sessions only say "another WebGPU EP inference session is
 * being created", so this first error is the one worth showing.
 */
export async function startRuntime(ort: OrtModule, backend: Backend): Promise<unknown> {
  try {
    const session = await ort.InferenceSession.create(tinyModelBytes(), { executionProviders: [backend] });
    await session.release();
    return null;
  } catch (error) {
    return error ?? new Error('the runtime did not start');
  }
}
