/**
 * Starts onnxruntime-web's runtime before the model's bytes are ready. The runtime starts at the first
 * `InferenceSession.create`: it fetches and compiles its WebAssembly (tens of MB) and starts its threads, which
 * measured 2–2.5 s of a 3.4 s B/16 image-session creation in a fresh tab here. Creating a session of a tiny graph
 * as soon as the backend is known lets that happen while the model files are still being read and checked.
 */
import type { OrtModule } from './backend';
import type { Backend } from './manifest';

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
 * Creates and releases a session of the tiny model on `backend`. Never throws: if the runtime cannot start, the
 * model's own session creation fails next and reports why in full.
 * @returns whether the runtime started.
 */
export async function startRuntime(ort: OrtModule, backend: Backend): Promise<boolean> {
  try {
    const session = await ort.InferenceSession.create(tinyModelBytes(), { executionProviders: [backend] });
    await session.release();
    return true;
  } catch {
    return false;
  }
}
