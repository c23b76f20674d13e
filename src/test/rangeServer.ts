/**
 * A fake HTTP server for download tests: serves byte arrays by URL in small chunks, answers `Range: bytes=N-` with
 * 206 and a Content-Range (unless told to ignore ranges, as some hosts do), honours AbortSignal like a real fetch,
 * and logs every request with its Range header. Also builds a small model (manifest with real sha256) to serve.
 */
import type { ManifestFile, ModelManifest } from '../core/manifest';
import { sha256Hex } from '../engine/library/manifestLoader';
import type { RangeFetch } from '../engine/library/modelDownload';
import { makeManifest } from './manifestFixture';

export const SERVED_MANIFEST_URL = 'https://models.test/store-test/manifest.json';

export interface ServedRequest {
  url: string;
  range: string | null;
}

export interface RangeServerOptions {
  /** Body chunk size in bytes. */
  chunkBytes?: number;
  /** Answer every request with 200 and the whole file, as a host without Range support does. */
  ignoreRange?: boolean;
  /** Called as each chunk is sent (tests advance a fake clock here). */
  onChunk?: () => void;
}

export interface RangeServer {
  fetch: RangeFetch;
  requests: ServedRequest[];
  files: Map<string, Uint8Array>;
  options: RangeServerOptions;
}

function abortError(): DOMException {
  return new DOMException('The operation was aborted.', 'AbortError');
}

export function rangeServer(files: Map<string, Uint8Array>, options: RangeServerOptions = {}): RangeServer {
  const requests: ServedRequest[] = [];
  const fetchFn: RangeFetch = async (url, init) => {
    const signal = init?.signal;
    const range = init?.headers?.Range ?? null;
    requests.push({ url, range });
    if (signal?.aborted) throw abortError();
    const body = files.get(url);
    if (!body) return new Response('not found', { status: 404 });
    const start = range && !options.ignoreRange ? Number(/^bytes=(\d+)-$/.exec(range)?.[1]) : 0;
    if (Number.isNaN(start)) return new Response('bad range', { status: 400 });
    if (start >= body.length && start > 0) {
      return new Response(null, { status: 416, headers: { 'content-range': `bytes */${body.length}` } });
    }
    const rest = body.slice(start);
    const chunkBytes = options.chunkBytes ?? 64;
    let at = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (signal?.aborted) {
          controller.error(abortError());
          return;
        }
        if (at >= rest.length) {
          controller.close();
          return;
        }
        options.onChunk?.();
        controller.enqueue(rest.slice(at, at + chunkBytes));
        at += chunkBytes;
      },
    });
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (start > 0) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    return new Response(stream, { status: start > 0 ? 206 : 200, headers });
  };
  return { fetch: fetchFn, requests, files, options };
}

/** Deterministic, non-repeating-looking bytes, so a byte at the wrong offset changes the hash. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

export interface ServedModel {
  manifest: ModelManifest;
  files: Map<string, Uint8Array>;
  /** Bytes of a file by its manifest path. */
  bytesOf(path: string): Uint8Array;
}

/** A model with a tokenizer and two variants (int8, q4) whose files carry their true sizes and sha256. */
export async function servedModel(): Promise<ServedModel> {
  const files = new Map<string, Uint8Array>();
  const byPath = new Map<string, Uint8Array>();
  let seed = 1;
  const entry = async (path: string, length: number): Promise<ManifestFile> => {
    const bytes = patternBytes(length, seed++);
    files.set(new URL(path, SERVED_MANIFEST_URL).href, bytes);
    byPath.set(path, bytes);
    return { path, bytes: length, sha256: await sha256Hex(bytes) };
  };
  const base = makeManifest();
  const template = base.variants[0]!;
  const manifest: ModelManifest = {
    ...base,
    id: 'store-test',
    name: 'Store test model',
    text: { ...base.text, tokenizer: await entry('tokenizer.json', 700) },
    variants: [
      {
        ...template,
        dtype: 'int8',
        backends: ['wasm'],
        imageModel: await entry('image.int8.onnx', 2000),
        textModel: await entry('text.int8.onnx', 1500),
      },
      {
        ...template,
        dtype: 'q4',
        backends: ['webgpu'],
        imageModel: await entry('image.q4.onnx', 1200),
        textModel: await entry('text.q4.onnx', 900),
      },
    ],
  };
  files.set(SERVED_MANIFEST_URL, new TextEncoder().encode(JSON.stringify(manifest)));
  return {
    manifest,
    files,
    bytesOf: (path) => {
      const bytes = byPath.get(path);
      if (!bytes) throw new Error(`no served file ${path}`);
      return bytes;
    },
  };
}
