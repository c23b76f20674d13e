/**
 * Memory readings from inside a bench worker. onnxruntime-web does not expose its WebAssembly heap, so the
 * worker wraps the `WebAssembly.Memory` constructor before the runtime starts and keeps the memories it creates;
 * a WASM memory never shrinks, so its current size is also its peak.
 */
import type { MemoryReading } from './protocol';

const memories: WebAssembly.Memory[] = [];

/** Call once, before onnxruntime-web creates its first session. */
export function recordWasmMemories(): void {
  const NativeMemory = WebAssembly.Memory;
  WebAssembly.Memory = new Proxy(NativeMemory, {
    construct(target, args: [WebAssembly.MemoryDescriptor]) {
      const memory = Reflect.construct(target, args) as WebAssembly.Memory;
      memories.push(memory);
      return memory;
    },
  });
}

/** Chromium's non-standard `performance.memory`, where it exists. */
interface ChromiumPerformance {
  memory?: { usedJSHeapSize: number };
}

export function readMemory(): MemoryReading {
  const heap = (performance as unknown as ChromiumPerformance).memory;
  return {
    wasmBytes: memories.length > 0 ? memories.reduce((sum, m) => sum + m.buffer.byteLength, 0) : null,
    jsHeapUsedBytes: heap ? heap.usedJSHeapSize : null,
  };
}
