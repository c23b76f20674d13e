import { describe, expect, it } from 'vitest';
import { ManifestError, ModelFileError } from '../../core/errors';
import {
  fetchVerified,
  loadManifest,
  resolveModelFileUrl,
  sha256Hex,
  type FetchLike,
} from './manifestLoader';
import { fakeFile, makeManifest } from '../../test/manifestFixture';

const respond =
  (body: BodyInit | null, status = 200): FetchLike =>
  async () =>
    new Response(body, { status });

/** A response whose body arrives in the given chunks. */
function chunked(chunks: Uint8Array[]): FetchLike {
  return async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
          controller.close();
        },
      }),
    );
}

describe('loadManifest', () => {
  it('fetches and validates a manifest', async () => {
    const manifest = makeManifest();
    const loaded = await loadManifest('https://h/models/m/manifest.json', respond(JSON.stringify(manifest)));
    expect(loaded.manifest).toEqual(manifest);
    expect(loaded.manifestUrl).toBe('https://h/models/m/manifest.json');
  });

  it('reports an HTTP error with its status', async () => {
    await expect(loadManifest('https://h/m.json', respond('nope', 404))).rejects.toThrow(/HTTP 404/);
    await expect(loadManifest('https://h/m.json', respond('nope', 404))).rejects.toBeInstanceOf(
      ManifestError,
    );
  });

  it('says so when the server answers with a web page (SPA fallback for a missing file)', async () => {
    const html: FetchLike = async () =>
      new Response('<!doctype html>', { headers: { 'content-type': 'text/html; charset=utf-8' } });
    await expect(loadManifest('https://h/nope/manifest.json', html)).rejects.toThrow(
      'There is no model manifest at https://h/nope/manifest.json: the server answered with a web page.',
    );
    await expect(fetchVerified('https://h/x.onnx', fakeFile('x.onnx'), { fetch: html })).rejects.toThrow(
      /x\.onnx is missing on the server at https:\/\/h\/x\.onnx/,
    );
  });

  it('reports a network failure and bad JSON', async () => {
    const offline: FetchLike = () => Promise.reject(new TypeError('Failed to fetch'));
    await expect(loadManifest('https://h/m.json', offline)).rejects.toThrow(
      /Could not reach .*Failed to fetch/,
    );
    await expect(loadManifest('https://h/m.json', respond('{'))).rejects.toThrow(/not valid JSON/);
  });
});

describe('resolveModelFileUrl', () => {
  it('resolves paths relative to the manifest', () => {
    expect(resolveModelFileUrl('https://h/app/models/m/manifest.json', fakeFile('image.int8.onnx'))).toBe(
      'https://h/app/models/m/image.int8.onnx',
    );
    expect(resolveModelFileUrl('https://h/m/manifest.json', fakeFile('sub/t.json'))).toBe(
      'https://h/m/sub/t.json',
    );
  });
});

describe('fetchVerified', () => {
  const bytes = new Uint8Array(Array.from({ length: 100 }, (_, i) => i));

  it('returns the bytes when size and sha256 match, with progress up to the total', async () => {
    const file = fakeFile('x.onnx', 100, await sha256Hex(bytes));
    const progress: [number, number][] = [];
    const result = await fetchVerified('https://h/x.onnx', file, {
      fetch: chunked([bytes.subarray(0, 30), bytes.subarray(30)]),
      onProgress: (loaded, total) => progress.push([loaded, total]),
    });
    expect(Array.from(result)).toEqual(Array.from(bytes));
    expect(progress).toEqual([
      [0, 100],
      [30, 100],
      [100, 100],
    ]);
  });

  it('knows the sha256 of a known string', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('rejects a short download', async () => {
    const file = fakeFile('x.onnx', 101, await sha256Hex(bytes));
    await expect(fetchVerified('u', file, { fetch: chunked([bytes]) })).rejects.toThrow(
      /x\.onnx is 100 bytes but the manifest says 101/,
    );
  });

  it('rejects a long download before reading all of it', async () => {
    const file = fakeFile('x.onnx', 50, await sha256Hex(bytes));
    await expect(fetchVerified('u', file, { fetch: chunked([bytes]) })).rejects.toThrow(/more than 50 bytes/);
  });

  it('rejects a file whose checksum differs', async () => {
    const file = fakeFile('x.onnx', 100, 'f'.repeat(64));
    const attempt = fetchVerified('u', file, { fetch: chunked([bytes]) });
    await expect(attempt).rejects.toBeInstanceOf(ModelFileError);
    await expect(fetchVerified('u', file, { fetch: chunked([bytes]) })).rejects.toThrow(
      /does not match the checksum/,
    );
  });

  it('rejects an HTTP error', async () => {
    await expect(
      fetchVerified('https://h/x', fakeFile('x.onnx'), { fetch: respond(null, 500) }),
    ).rejects.toThrow(/Could not download x\.onnx .*HTTP 500/);
  });

  /** A server whose first `breaks` answers lose the connection after 30 bytes, then answers whole. */
  function breaking(breaks: number): { fetch: FetchLike; calls: () => number } {
    let calls = 0;
    const fetch: FetchLike = async () => {
      calls++;
      if (calls > breaks) return chunked([bytes])('u');
      let sent = false;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent) controller.error(new TypeError('network error'));
            else controller.enqueue(bytes.slice(0, 30));
            sent = true;
          },
        }),
      );
    };
    return { fetch, calls: () => calls };
  }

  it('fetches again when the connection breaks (a first visit while the service worker precaches)', async () => {
    const file = fakeFile('x.onnx', 100, await sha256Hex(bytes));
    const server = breaking(2);
    const result = await fetchVerified('u', file, { fetch: server.fetch });
    expect(Array.from(result)).toEqual(Array.from(bytes));
    expect(server.calls()).toBe(3);
  });

  it('gives up after three broken connections, and never retries a wrong checksum', async () => {
    const file = fakeFile('x.onnx', 100, await sha256Hex(bytes));
    const server = breaking(3);
    await expect(fetchVerified('u', file, { fetch: server.fetch })).rejects.toThrow(
      /The download of x\.onnx was interrupted/,
    );
    expect(server.calls()).toBe(3);
    let checksumCalls = 0;
    const wrong = fakeFile('x.onnx', 100, '0'.repeat(64));
    const counting: FetchLike = async (...args) => {
      checksumCalls++;
      return chunked([bytes])(...args);
    };
    await expect(fetchVerified('u', wrong, { fetch: counting })).rejects.toThrow(/checksum/);
    expect(checksumCalls).toBe(1);
  });
});
