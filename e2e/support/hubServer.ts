/**
 * A stand-in for the Hugging Face hub and its CDN (issues #9, #16), behaving as the public ones are known to:
 * - the hub (`/<owner>/<repo>/resolve/<revision>/<file>`) answers `302` to a CDN on ANOTHER origin (a second port) with
 *   a signed address that expires (`Expires=`, `X-Amz-*`, `Signature=` in the query), as `huggingface.co` redirects
 *   large files to `cas-bridge.xethub.hf.co` / `us.aws.cdn.hf.co/xet-bridge-us/…`; the 302 carries `X-Linked-Size`,
 *   `X-Linked-Etag` and `X-Repo-Commit`, which a page's `fetch` never sees;
 * - the hub's JSON API lists a folder's files with size and LFS sha256 (`/api/models/<repo>/tree/<revision>`);
 * - knobs make the CDN refuse CORS preflights (OPTIONS → 403, as the Xet bridge did in huggingface/datasets#7931),
 *   hide Content-Range (no Access-Control-Expose-Headers), ignore Range (200 with the whole file), expire every signed
 *   address handed out so far (a later request with one gets 403), drop a connection at a byte offset, throttle, or be
 *   down; and make the hub answer 429/503 with Retry-After a number of times.
 * It serves a random-weight checkpoint with the real tensor names and shapes, made by the model toolchain
 * (`npm run models -- random-checkpoint`), which the committed B/16 recipe knows by its sha256.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize } from 'node:path';
import { PYTHON } from '../../scripts/python.mjs';
import { parseRange } from './modelServer';
import { ROOT } from './paths';

export const HUB_ROOT = join(ROOT, 'models', '.artifacts', 'hub-stand-in');
export const B16_REPO = 'timm/eva02_base_patch16_clip_224.merged2b_s8b_b131k';
export const B16_FILE = `/${B16_REPO}/resolve/main/open_clip_model.safetensors`;

export interface HubRequest {
  /** Which server answered: the hub (resolve and API) or its CDN. */
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  range: string | null;
  status: number;
  /** Body bytes written to the socket for this request (what the browser can at most have received). */
  sent: number;
}

export interface HubKnobs {
  /** Bytes per second for the checkpoint (0: as fast as the machine goes). */
  bytesPerSecond: number;
  /** Byte offsets of the file at which the CDN answer that crosses one loses its connection (each used once). */
  dropAt: number[];
  /** The drop also expires every signed address handed out so far (the clock passed their `Expires`). */
  expireAtDrop: boolean;
  /** From the last drop in `dropAt` on, the hub and its CDN are down (every download request loses its connection). */
  downAfterDrop: boolean;
  down: boolean;
  /** The CDN answers a CORS preflight (OPTIONS) with 403. */
  cdnRefusesPreflight: boolean;
  /** The CDN exposes Content-Range, Content-Length and Accept-Ranges to pages. */
  cdnExposesHeaders: boolean;
  /** The CDN answers every GET with 200 and the whole file. */
  cdnIgnoresRange: boolean;
  /** The hub answers `resolve` with this status (and Retry-After, exposed to pages) `times` more times. */
  busy: { status: 429 | 503; times: number; retryAfterSeconds: number } | null;
  /** The API's sha256 for the checkpoint, in place of the true one (a file changed on the hub). */
  listedSha256: string | null;
}

export interface HubServer {
  /** The hub's origin (what a person types in Models). */
  url: string;
  /** The CDN's origin (another port: another origin for the browser). */
  cdnUrl: string;
  log: HubRequest[];
  knobs: HubKnobs;
  /** sha256 of a served file, as the API lists it. */
  sha256Of(path: string): string;
  close(): Promise<void>;
}

/** The random B/16 checkpoint (seed 0, fp16, open_clip names), written by the toolchain when it is missing. */
export function ensureB16Checkpoint(): string {
  const path = join(HUB_ROOT, B16_FILE);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    execFileSync(
      PYTHON,
      // prettier-ignore
      ['-m', 'eva_lens', 'random-checkpoint', '--arch', 'EVA02-CLIP-B-16', '--layout', 'open_clip-safetensors', '--out', path],
      { cwd: ROOT, env: { ...process.env, PYTHONPATH: 'models' }, stdio: 'inherit' },
    );
  }
  return path;
}

export const defaultHubKnobs = (): HubKnobs => ({
  bytesPerSecond: 0,
  dropAt: [],
  expireAtDrop: false,
  downAfterDrop: false,
  down: false,
  cdnRefusesPreflight: true,
  cdnExposesHeaders: false,
  cdnIgnoresRange: false,
  busy: null,
  listedSha256: null,
});

/** What the hub answers CORS requests with (its own headers exposed, as huggingface.co does). */
const HUB_CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers':
    'X-Repo-Commit, X-Linked-Size, X-Linked-Etag, ETag, Link, Content-Range, Accept-Ranges, Retry-After',
};

const sha256Cache = new Map<string, { mtimeMs: number; sha256: string }>();
/** sha256 of a served file (sha256sum: a 300 MB checkpoint takes a second or two, once). */
function fileSha256(file: string): string {
  const { mtimeMs } = statSync(file);
  const cached = sha256Cache.get(file);
  if (cached?.mtimeMs === mtimeMs) return cached.sha256;
  const sha256 = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]!;
  sha256Cache.set(file, { mtimeMs, sha256 });
  return sha256;
}

export async function startHubServer(initial: Partial<HubKnobs> = {}): Promise<HubServer> {
  const log: HubRequest[] = [];
  const knobs: HubKnobs = { ...defaultHubKnobs(), ...initial };
  /** Signed addresses carry a serial; those below `validFrom` have expired. */
  let serial = 0;
  let validFrom = 0;
  let cdnOrigin = '';

  const record = (server: HubRequest['server'], req: IncomingMessage, path: string): HubRequest => {
    const entry: HubRequest = {
      server,
      method: req.method ?? 'GET',
      path,
      range: req.headers.range ?? null,
      status: 0,
      sent: 0,
    };
    log.push(entry);
    return entry;
  };

  const hub = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    const entry = record('hub', req, path);
    const reply = (status: number, headers: Record<string, string | number> = {}) => {
      entry.status = status;
      res.writeHead(status, { ...HUB_CORS, ...headers });
    };
    if (req.method === 'OPTIONS') {
      reply(204, { 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': 'Range' });
      res.end();
      return;
    }
    const api = /^\/api\/models\/(.+?)\/tree\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (api) {
      const [, repo, revision, folder = ''] = api;
      const dir = normalize(join(HUB_ROOT, repo!, 'resolve', revision!, folder));
      if (!dir.startsWith(HUB_ROOT) || !existsSync(dir)) {
        reply(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'Repository not found' }));
        return;
      }
      const entries = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => {
          const file = join(dir, d.name);
          const size = statSync(file).size;
          const filePath = folder ? `${folder}/${d.name}` : d.name;
          const sha256 =
            d.name.endsWith('.safetensors') && knobs.listedSha256 ? knobs.listedSha256 : fileSha256(file);
          return {
            type: 'file',
            oid: createHash('sha1').update(sha256).digest('hex'),
            size,
            path: filePath,
            lfs: { oid: sha256, size, pointerSize: 135 },
            xetHash: createHash('sha256').update(`xet:${sha256}`).digest('hex'),
          };
        });
      reply(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(entries));
      return;
    }
    const file = normalize(join(HUB_ROOT, path));
    if (!path.includes('/resolve/') || !file.startsWith(HUB_ROOT) || !existsSync(file)) {
      reply(404, { 'Content-Type': 'text/plain', 'X-Error-Code': 'EntryNotFound' });
      res.end('Entry not found');
      return;
    }
    if (knobs.down) {
      entry.status = -1;
      res.destroy();
      return;
    }
    if (knobs.busy && knobs.busy.times > 0) {
      knobs.busy.times--;
      reply(knobs.busy.status, {
        'Content-Type': 'text/plain',
        'Retry-After': knobs.busy.retryAfterSeconds,
      });
      res.end(knobs.busy.status === 429 ? 'Too Many Requests' : 'Service Unavailable');
      return;
    }
    // The hub sends file downloads to its CDN with a redirect to a signed address valid for an hour.
    const sha256 = fileSha256(file);
    const expires = Math.floor(Date.now() / 1000) + 3600;
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Expires': '3600',
      Expires: String(expires),
      Signature: String(serial++),
      file: path,
    });
    reply(302, {
      Location: `${cdnOrigin}/xet-bridge-us/${sha256}?${query}`,
      'X-Linked-Size': statSync(file).size,
      'X-Linked-Etag': `"${sha256}"`,
      'X-Repo-Commit': createHash('sha1').update(B16_REPO).digest('hex'),
      'Content-Type': 'text/plain',
    });
    res.end('Found. Redirecting');
  });

  const cdn = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry = record('cdn', req, `${url.pathname}${url.search}`);
    const cors: Record<string, string> = { 'Access-Control-Allow-Origin': '*' };
    if (knobs.cdnExposesHeaders)
      cors['Access-Control-Expose-Headers'] = 'Content-Range, Content-Length, Accept-Ranges';
    const reply = (status: number, headers: Record<string, string | number> = {}) => {
      entry.status = status;
      res.writeHead(status, { ...cors, ...headers });
    };
    if (req.method === 'OPTIONS') {
      if (knobs.cdnRefusesPreflight) reply(403, { 'Content-Type': 'text/plain' });
      else reply(204, { 'Access-Control-Allow-Methods': 'GET', 'Access-Control-Allow-Headers': 'Range' });
      res.end();
      return;
    }
    if (knobs.down) {
      entry.status = -1;
      res.destroy();
      return;
    }
    const signature = Number(url.searchParams.get('Signature'));
    const expires = Number(url.searchParams.get('Expires'));
    const wanted = url.searchParams.get('file') ?? '';
    const file = normalize(join(HUB_ROOT, wanted));
    if (!wanted || !file.startsWith(HUB_ROOT) || !existsSync(file)) {
      reply(404, { 'Content-Type': 'application/xml' });
      res.end('<Error><Code>NoSuchKey</Code></Error>');
      return;
    }
    if (!(signature >= validFrom) || expires * 1000 < Date.now()) {
      // CloudFront/S3 refuse an expired signed address; the CORS header stays (a page sees the 403).
      reply(403, { 'Content-Type': 'application/xml' });
      res.end('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
      return;
    }
    const size = statSync(file).size;
    const range = knobs.cdnIgnoresRange ? null : parseRange(req.headers.range, size);
    const [start, end] = range ?? [0, size - 1];
    const headers = {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': knobs.cdnIgnoresRange ? 'none' : 'bytes',
      'Content-Length': end - start + 1,
      ETag: `"${fileSha256(file)}"`,
    };
    if (range) reply(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}` });
    else reply(200, headers);
    const dropAt = knobs.dropAt.find((at) => at > start && at <= end) ?? null;
    if (dropAt !== null) knobs.dropAt = knobs.dropAt.filter((at) => at !== dropAt);
    const stream = createReadStream(file, { start, end: (dropAt ?? end + 1) - 1, highWaterMark: 1 << 20 });
    const began = Date.now();
    // The stream waits for the slower of two things: the socket draining and the throttle's clock.
    let holds = 0;
    const hold = () => {
      holds++;
      stream.pause();
    };
    const release = () => {
      if (--holds === 0) stream.resume();
    };
    stream.on('data', (chunk) => {
      entry.sent += chunk.length;
      if (!res.write(chunk)) {
        hold();
        res.once('drain', release);
      }
      if (knobs.bytesPerSecond > 0) {
        const ahead = (entry.sent / knobs.bytesPerSecond) * 1000 - (Date.now() - began);
        if (ahead > 0) {
          hold();
          setTimeout(release, ahead);
        }
      }
    });
    stream.on('end', () => {
      if (dropAt === null) {
        res.end();
        return;
      }
      if (knobs.expireAtDrop) validFrom = serial;
      if (knobs.downAfterDrop && knobs.dropAt.length === 0) knobs.down = true;
      res.destroy();
    });
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
  });

  const listen = async (server: Server, host: string) => {
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return (server.address() as AddressInfo).port;
  };
  const hubPort = await listen(hub, '127.0.0.1');
  const cdnPort = await listen(cdn, '127.0.0.1');
  cdnOrigin = `http://127.0.0.1:${cdnPort}`;
  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    url: `http://127.0.0.1:${hubPort}`,
    cdnUrl: cdnOrigin,
    log,
    knobs,
    sha256Of: (path) => fileSha256(normalize(join(HUB_ROOT, path))),
    close: async () => {
      await Promise.all([close(hub), close(cdn)]);
    },
  };
}
