/**
 * The hub download against a fake of the public hub and its CDN as a page sees them (issue #16): `resolve` redirects
 * to a signed CDN address on another origin that expires, the JSON file list gives size and sha256, the CDN may hide
 * Content-Range, ignore Range, refuse what needs a preflight, and the hub may be busy or down. Every test checks the
 * stored bytes against the file, so a byte written twice or skipped fails it.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CancelledError, ModelFileError } from '../../core/errors';
import { MemoryModelStore } from '../storage/memoryModelStore';
import type { RangeFetch } from '../library/modelDownload';
import { patternBytes } from '../../test/rangeServer';
import type { TransferProgress } from '../library/transferProgress';
import { downloadHubFile, hubFileUrl, hubTreeUrl, retryAfterSeconds, type HubFile } from './hubDownload';

const HUB = 'http://hub.test';
const CDN = 'http://cdn.test';
const FILE: HubFile = { repo: 'owner/model', revision: 'main', file: 'open_clip_model.safetensors' };
const STORE_ID = 'model--checkpoint';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Knobs {
  /** Serve the JSON file list. */
  api: boolean;
  /** The sha256 the file list gives (default: the file's). */
  listedSha256?: string;
  /** The CDN exposes Content-Range to the page. */
  exposeContentRange: boolean;
  /** The CDN sends Content-Length (a CORS-safelisted response header). */
  contentLength: boolean;
  /** The CDN answers 200 with the whole file whatever the Range. */
  ignoreRange: boolean;
  /** A Range request fails outright, as a refused preflight does in a browser that preflights Range. */
  rangeNeedsPreflight: boolean;
  /** File offsets at which the CDN's answer breaks off (each used once). */
  dropAt: number[];
  /** The signed addresses handed out so far expire when the connection drops. */
  expireAtDrop: boolean;
  /** The CDN's 403 for an expired address carries no CORS headers: the page sees a failed fetch, not the 403. */
  expiredWithoutCors: boolean;
  /** The hub answers `resolve` with this status `times` times. */
  busy: { status: number; times: number; retryAfter?: string } | null;
  /** Every request to the hub's resolve and the CDN fails outright. */
  down: boolean;
  /** Called as the CDN sends each chunk (tests cancel from here). */
  onChunk?: (sentUpTo: number) => void;
}

interface Logged {
  url: string;
  range: string | null;
  headers: string[];
  status: number | 'error';
}

/** The fake hub and CDN; `fetch` follows the redirect as a browser does (the 302 itself is not visible). */
function fakeHub(file: Uint8Array, knobs: Partial<Knobs> = {}) {
  const k: Knobs = {
    api: true,
    exposeContentRange: false,
    contentLength: true,
    ignoreRange: false,
    rangeNeedsPreflight: false,
    dropAt: [],
    expireAtDrop: false,
    expiredWithoutCors: false,
    busy: null,
    down: false,
    ...knobs,
  };
  const log: Logged[] = [];
  let serial = 0;
  let validFrom = 0;
  const fail = (entry: Logged, message: string): never => {
    entry.status = 'error';
    throw new TypeError(message);
  };

  const cdnAnswer = (url: URL, range: string | null, entry: Logged, signal?: AbortSignal): Response => {
    if (Number(url.searchParams.get('Signature')) < validFrom) {
      entry.status = 403;
      if (k.expiredWithoutCors) throw new TypeError('Failed to fetch');
      return new Response('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', {
        status: 403,
        headers: { 'content-type': 'application/xml' },
      });
    }
    const start = range && !k.ignoreRange ? Number(/^bytes=(\d+)-$/.exec(range)![1]) : 0;
    if (start >= file.length) {
      entry.status = 416;
      return new Response(null, { status: 416 });
    }
    const drop = k.dropAt.find((at) => at > start);
    if (drop !== undefined) k.dropAt = k.dropAt.filter((at) => at !== drop);
    const end = drop ?? file.length;
    let at = start;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (signal?.aborted) {
          controller.error(new DOMException('The operation was aborted.', 'AbortError'));
          return;
        }
        if (at >= end) {
          if (drop === undefined) {
            controller.close();
          } else {
            if (k.expireAtDrop) validFrom = serial;
            controller.error(new TypeError('network error'));
          }
          return;
        }
        const next = Math.min(end, at + 4096);
        controller.enqueue(file.slice(at, next));
        at = next;
        k.onChunk?.(at);
      },
    });
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (k.contentLength) headers['content-length'] = String(file.length - start);
    const partial = start > 0;
    if (partial && k.exposeContentRange)
      headers['content-range'] = `bytes ${start}-${file.length - 1}/${file.length}`;
    entry.status = partial ? 206 : 200;
    return new Response(body, { status: partial ? 206 : 200, headers });
  };

  const fetch: RangeFetch = async (url, init) => {
    const headers = init?.headers ?? {};
    const range = headers.Range ?? null;
    const entry: Logged = { url, range, headers: Object.keys(headers), status: 0 };
    log.push(entry);
    if (init?.signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
    const parsed = new URL(url);
    if (url === hubTreeUrl(HUB, FILE)) {
      if (!k.api) {
        entry.status = 404;
        return new Response('{"error":"not found"}', { status: 404 });
      }
      entry.status = 200;
      const list = [
        { type: 'file', oid: 'a'.repeat(40), size: 1519, path: '.gitattributes' },
        {
          type: 'file',
          oid: 'b'.repeat(40),
          size: file.length,
          path: FILE.file,
          lfs: { oid: k.listedSha256 ?? sha256(file), size: file.length, pointerSize: 135 },
        },
      ];
      return Response.json(list);
    }
    if (k.down) fail(entry, 'Failed to fetch');
    // A browser sends a preflight for a Range it does not safelist; this CDN refuses preflights.
    if (range && k.rangeNeedsPreflight && parsed.origin === CDN)
      fail(entry, 'Failed to fetch (CORS preflight)');
    if (parsed.origin === CDN) return cdnAnswer(parsed, range, entry, init?.signal);
    if (url !== hubFileUrl(HUB, FILE)) {
      entry.status = 404;
      return new Response('Entry not found', { status: 404 });
    }
    if (k.busy && k.busy.times > 0) {
      k.busy.times--;
      entry.status = k.busy.status;
      return new Response('busy', {
        status: k.busy.status,
        headers: k.busy.retryAfter ? { 'retry-after': k.busy.retryAfter } : {},
      });
    }
    // The 302: a signed address on the CDN; fetch follows it and shows only the final answer and its URL.
    const signed = `${CDN}/xet-bridge-us/${sha256(file)}?X-Amz-Expires=3600&Expires=9999999999&Signature=${serial++}`;
    const cdnEntry: Logged = { url: signed, range, headers: Object.keys(headers), status: 0 };
    log.push(cdnEntry);
    if (range && k.rangeNeedsPreflight) fail(cdnEntry, 'Failed to fetch (CORS preflight)');
    entry.status = 302;
    const answer = cdnAnswer(new URL(signed), range, cdnEntry, init?.signal);
    Object.defineProperty(answer, 'url', { value: signed });
    Object.defineProperty(answer, 'redirected', { value: true });
    return answer;
  };
  return { fetch, log, knobs: k, cdnRequests: () => log.filter((e) => e.url.startsWith(CDN)) };
}

function run(
  hub: ReturnType<typeof fakeHub>,
  store = new MemoryModelStore(),
  extra: { signal?: AbortSignal; maxTries?: number } = {},
) {
  const waits: number[] = [];
  const progress: TransferProgress[] = [];
  const done = downloadHubFile(HUB, FILE, store, STORE_ID, hub.fetch, {
    onProgress: (p) => progress.push(p),
    now: () => 0,
    wait: async (ms) => {
      waits.push(ms);
    },
    ...extra,
  });
  return { done, waits, progress, store };
}

async function storedBytes(store: MemoryModelStore): Promise<Uint8Array> {
  return new Uint8Array(await (await store.readFile(STORE_ID, FILE.file)).arrayBuffer());
}

const FILE_BYTES = 300_000;

describe('downloading a file from the hub as a web page can', { timeout: 60_000 }, () => {
  it('follows the redirect to a CDN on another origin, takes size and sha256 from the file list, verifies', async () => {
    const file = patternBytes(FILE_BYTES, 1);
    const hub = fakeHub(file);
    const { done, progress, store } = run(hub);
    await expect(done).resolves.toEqual({ bytes: file.length, sha256: sha256(file) });
    expect(await storedBytes(store)).toEqual(file);
    expect(hub.log[0]!.url).toBe(`${HUB}/api/models/owner/model/tree/main`);
    // Only simple requests: no header but a Range, and no Range probe of byte 0.
    expect(hub.log.every((e) => e.headers.every((h) => h === 'Range'))).toBe(true);
    expect(hub.log.some((e) => e.range === 'bytes=0-0')).toBe(false);
    expect(progress.at(-1)!.loaded).toBe(file.length);
    // Hashing is part of the download step for the page (a 'verify' stage would light the build's Verifying step).
    expect(new Set(progress.map((p) => p.stage))).toEqual(new Set(['download']));
    expect(progress.map((p) => p.file)).toContain(
      "Checking open_clip_model.safetensors against the sha256 in the hub's file list…",
    );
  });

  it('a dropped connection continues from the stored bytes at the remembered CDN address (Content-Range hidden)', async () => {
    const file = patternBytes(FILE_BYTES, 2);
    const hub = fakeHub(file, { dropAt: [100_000, 200_000] });
    const { done, store, waits } = run(hub);
    await done;
    expect(await storedBytes(store)).toEqual(file);
    const cdn = hub.cdnRequests();
    expect(cdn.map((e) => e.range)).toEqual([null, 'bytes=100000-', 'bytes=200000-']);
    expect(new Set(cdn.map((e) => e.url)).size).toBe(1);
    // Two tries that brought bytes: no waiting.
    expect(waits).toEqual([]);
  });

  it('a signed address that expires mid-download sends the next try back to the hub for a fresh one', async () => {
    const file = patternBytes(FILE_BYTES, 3);
    const hub = fakeHub(file, { dropAt: [120_000], expireAtDrop: true });
    const { done, store, progress } = run(hub);
    await done;
    expect(await storedBytes(store)).toEqual(file);
    const cdn = hub.cdnRequests();
    expect(cdn.map((e) => [e.range, e.status])).toEqual([
      [null, 200],
      ['bytes=120000-', 403],
      ['bytes=120000-', 206],
    ]);
    expect(cdn[2]!.url).not.toBe(cdn[0]!.url);
    expect(progress.map((p) => p.file)).toContain(
      'The download address expired (HTTP 403); asking the hub for a fresh one.',
    );
  });

  it('an expired address whose 403 a page cannot read (no CORS headers) also goes back to the hub at once', async () => {
    const file = patternBytes(FILE_BYTES, 15);
    const hub = fakeHub(file, { dropAt: [120_000], expireAtDrop: true, expiredWithoutCors: true });
    const { done, store, waits } = run(hub);
    await done;
    expect(await storedBytes(store)).toEqual(file);
    expect(hub.cdnRequests().map((e) => [e.range, e.status])).toEqual([
      [null, 200],
      ['bytes=120000-', 403],
      ['bytes=120000-', 206],
    ]);
    expect(waits).toEqual([0]);
  });

  it('a CDN that ignores Range: the whole file comes again and the stored bytes are skipped, never appended twice', async () => {
    const file = patternBytes(FILE_BYTES, 4);
    const hub = fakeHub(file, { ignoreRange: true, dropAt: [150_000] });
    const { done, store } = run(hub);
    await expect(done).resolves.toEqual({ bytes: file.length, sha256: sha256(file) });
    expect(await storedBytes(store)).toEqual(file);
    expect(hub.cdnRequests().map((e) => e.status)).toEqual([200, 200]);
  });

  it('when Range cannot be sent at all (a refused preflight), the file comes whole, skipping what is stored', async () => {
    const file = patternBytes(FILE_BYTES, 5);
    const hub = fakeHub(file, { rangeNeedsPreflight: true, dropAt: [90_000] });
    const { done, store, waits } = run(hub);
    await done;
    expect(await storedBytes(store)).toEqual(file);
    const cdn = hub.cdnRequests();
    expect(cdn.map((e) => [e.range, e.status])).toEqual([
      [null, 200],
      ['bytes=90000-', 'error'],
      ['bytes=90000-', 'error'],
      [null, 200],
    ]);
    expect(waits.length).toBe(2);
  });

  it('429/503 with Retry-After: waits as asked, says so, and continues', async () => {
    const file = patternBytes(FILE_BYTES, 6);
    const hub = fakeHub(file, { busy: { status: 503, times: 2, retryAfter: '3' } });
    const { done, store, waits, progress } = run(hub);
    await done;
    expect(await storedBytes(store)).toEqual(file);
    expect(waits).toEqual([3000, 3000]);
    expect(progress.map((p) => p.file)).toContain(
      'The model hub is busy (HTTP 503 from hub.test). Retrying in 3 s (try 2 of 5).',
    );
    expect(
      retryAfterSeconds(
        new Response(null, { headers: { 'retry-after': 'Thu, 01 Jan 1970 00:00:10 GMT' } }),
        4000,
      ),
    ).toBe(6);
  });

  it('a hub that stays busy ends after a bounded number of tries with the cause and what to do', async () => {
    const hub = fakeHub(patternBytes(FILE_BYTES, 7), { busy: { status: 429, times: 99 } });
    const { done, waits, store } = run(hub);
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message).toBe(
      'The model hub is busy (HTTP 429 from hub.test), and still was after 5 tries over 15 s. Try again later. Nothing was stored.',
    );
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
    // Nothing arrived, so nothing is in storage to offer a "Resume" for.
    expect(await store.fileInfo(STORE_ID, FILE.file)).toEqual({ committedBytes: null, partialBytes: null });
  });

  it('a hub that is down ends after a bounded number of tries and keeps what arrived', async () => {
    const file = patternBytes(FILE_BYTES, 8);
    const hub = fakeHub(file, { dropAt: [64_000] });
    const store = new MemoryModelStore();
    hub.knobs.onChunk = (at) => {
      if (at >= 64_000) hub.knobs.down = true;
    };
    const error = await run(hub, store).done.catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^The download from hub\.test failed \(Failed to fetch\); gave up after 5 tries\. Check the connection, then build again\. The 64\.0 kB downloaded so far are kept; building again continues from them\.$/,
    );
    expect((await store.fileInfo(STORE_ID, FILE.file)).partialBytes).toBe(64_000);
  });

  it('without the file list, the size comes from a whole answer’s Content-Length', async () => {
    const file = patternBytes(FILE_BYTES, 9);
    const hub = fakeHub(file, { api: false });
    const { done, store } = run(hub);
    await expect(done).resolves.toEqual({ bytes: file.length, sha256: sha256(file) });
    expect(await storedBytes(store)).toEqual(file);
  });

  it('without the file list or a readable size, it says so before storing anything', async () => {
    const hub = fakeHub(patternBytes(FILE_BYTES, 10), { api: false, contentLength: false });
    const { done, store } = run(hub);
    await expect(done).rejects.toThrow(
      'The model hub did not say how large open_clip_model.safetensors is: its file list (http://hub.test/api/models/owner/model/tree/main) could not be read',
    );
    expect(await store.fileInfo(STORE_ID, FILE.file)).toEqual({ committedBytes: null, partialBytes: null });
  });

  it('a file that does not match the listed sha256 is refused and not kept', async () => {
    const hub = fakeHub(patternBytes(FILE_BYTES, 11), { listedSha256: 'c'.repeat(64) });
    const { done, store } = run(hub);
    await expect(done).rejects.toThrow(
      /^open_clip_model\.safetensors does not match the sha256 in the hub's file list \(expected cccccccccccc…, got [0-9a-f]{12}…\): it was damaged on the way or changed on the hub\. It was deleted; build again/,
    );
    expect(await store.fileInfo(STORE_ID, FILE.file)).toEqual({ committedBytes: null, partialBytes: null });
  });

  it('a cancel keeps exactly what was written, as the store reports it, and the next download continues there', async () => {
    const file = patternBytes(FILE_BYTES, 12);
    const hub = fakeHub(file);
    const controller = new AbortController();
    hub.knobs.onChunk = (at) => {
      if (at >= 131_072) controller.abort();
    };
    const store = new MemoryModelStore();
    const error = await run(hub, store, { signal: controller.signal }).done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    const kept = (await store.fileInfo(STORE_ID, FILE.file)).partialBytes!;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(131_072);
    expect((error as Error).message).toContain(`(${kept} bytes) are kept`);
    hub.knobs.onChunk = undefined;
    await run(hub, store).done;
    expect(await storedBytes(store)).toEqual(file);
    expect(hub.cdnRequests().at(-1)!.range).toBe(`bytes=${kept}-`);
  });

  it('a committed copy is kept when it matches the list, and fetched anew when it does not', async () => {
    const file = patternBytes(FILE_BYTES, 13);
    const hub = fakeHub(file);
    const store = new MemoryModelStore();
    await run(hub, store).done;
    const requests = hub.cdnRequests().length;
    await expect(run(hub, store).done).resolves.toEqual({ bytes: file.length, sha256: sha256(file) });
    expect(hub.cdnRequests().length).toBe(requests);
    const changed = patternBytes(FILE_BYTES, 14);
    const newHub = fakeHub(changed);
    await run(newHub, store).done;
    expect(await storedBytes(store)).toEqual(changed);
  });
});
