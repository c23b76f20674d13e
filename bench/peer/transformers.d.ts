/**
 * The part of transformers.js's API the peer case uses. The package is installed apart (bench/peer/, on first
 * `npm run bench`), so `npm test` type-checks bench/ against this declaration without it; bench/vite.config.ts
 * points the page's import at the installed package.
 */
declare module '@huggingface/transformers' {
  type Tensorish = Record<string, unknown>;
  interface Loadable<T> {
    from_pretrained(modelId: string, options?: Record<string, unknown>): Promise<T>;
  }
  export const env: {
    version: string;
    allowRemoteModels: boolean;
    allowLocalModels: boolean;
    localModelPath: string;
    useBrowserCache: boolean;
    useWasmCache: boolean;
    backends: {
      onnx: {
        versions?: { web?: string };
        wasm?: { wasmPaths?: string | { mjs: string; wasm: string }; numThreads?: number };
      };
    };
  };
  export class RawImage {
    constructor(data: Uint8ClampedArray, width: number, height: number, channels: number);
  }
  export function pipeline(
    task: 'zero-shot-image-classification',
    modelId: string,
    options?: Record<string, unknown>,
  ): Promise<
    (image: RawImage, labels: string[], options?: { hypothesis_template?: string }) => Promise<unknown>
  >;
  export const AutoTokenizer: Loadable<
    (texts: string[], options?: { padding?: boolean; truncation?: boolean }) => Tensorish
  >;
  export const AutoProcessor: Loadable<(image: RawImage) => Promise<Tensorish>>;
  export const CLIPTextModelWithProjection: Loadable<(inputs: Tensorish) => Promise<Tensorish>>;
  export const CLIPVisionModelWithProjection: Loadable<(inputs: Tensorish) => Promise<Tensorish>>;
}
