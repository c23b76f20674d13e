/**
 * A stand-in for the Hugging Face hub (issue #9): the same URL layout (`/<owner>/<repo>/resolve/<revision>/<file>`
 * answered with a 302 to a CDN path, as the hub does), CORS, Range requests, and knobs to slow a download or drop
 * its connection. It serves a random-weight checkpoint with the real tensor names and shapes, made by the model
 * toolchain (`npm run models -- random-checkpoint`), which the committed B/16 recipe knows by its sha256.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize } from 'node:path';
import { CORS_HEADERS, parseRange } from './modelServer';
import { ROOT } from './paths';

export const HUB_ROOT = join(ROOT, 'models', '.artifacts', 'hub-stand-in');
export const B16_REPO = 'timm/eva02_base_patch16_clip_224.merged2b_s8b_b131k';
export const B16_FILE = `/${B16_REPO}/resolve/main/open_clip_model.safetensors`;

export interface HubRequest {
  path: string;
  range: string | null;
  status: number;
}

export interface HubServer {
  url: string;
  log: HubRequest[];
  knobs: {
    /** Bytes per second for the checkpoint (0: as fast as the machine goes). */
    bytesPerSecond: number;
    /** Byte offset of the file at which the next GET loses its connection (used once). */
    dropAt: number | null;
  };
  close(): Promise<void>;
}

/** The random B/16 checkpoint (seed 0, fp16, open_clip names), written by the toolchain when it is missing. */
export function ensureB16Checkpoint(): string {
  const path = join(HUB_ROOT, B16_FILE);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    execFileSync(
      '/usr/bin/python3',
      // prettier-ignore
      ['-m', 'eva_lens', 'random-checkpoint', '--arch', 'EVA02-CLIP-B-16', '--layout', 'open_clip-safetensors', '--out', path],
      { cwd: ROOT, env: { ...process.env, PYTHONPATH: 'models' }, stdio: 'inherit' },
    );
  }
  return path;
}

export async function startHubServer(): Promise<HubServer> {
  const log: HubRequest[] = [];
  const knobs: HubServer['knobs'] = { bytesPerSecond: 0, dropAt: null };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const record: HubRequest = { path, range: req.headers.range ?? null, status: 0 };
    log.push(record);
    const reply = (status: number, headers: Record<string, string | number> = {}) => {
      record.status = status;
      res.writeHead(status, { ...CORS_HEADERS, ...headers });
    };
    if (req.method === 'OPTIONS') {
      reply(204, { 'Access-Control-Allow-Methods': 'GET, HEAD' });
      res.end();
      return;
    }
    if (!path.startsWith('/cdn/') && path.includes('/resolve/')) {
      // The hub sends file downloads to its CDN with a redirect.
      reply(302, { Location: `/cdn${path}` });
      res.end();
      return;
    }
    const file = normalize(join(HUB_ROOT, path.replace(/^\/cdn/, '')));
    if (!path.startsWith('/cdn/') || !file.startsWith(HUB_ROOT) || !existsSync(file)) {
      reply(404, { 'Content-Type': 'text/plain', 'X-Error-Code': 'EntryNotFound' });
      res.end('Entry not found');
      return;
    }
    const size = statSync(file).size;
    const range = parseRange(req.headers.range, size);
    const [start, end] = range ?? [0, size - 1];
    const headers = {
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': 'bytes',
      'Content-Length': end - start + 1,
    };
    if (range) reply(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}` });
    else reply(200, headers);
    const dropAt = knobs.dropAt !== null && knobs.dropAt > start && knobs.dropAt <= end ? knobs.dropAt : null;
    if (dropAt !== null) knobs.dropAt = null;
    const stream = createReadStream(file, { start, end: (dropAt ?? end + 1) - 1, highWaterMark: 1 << 20 });
    let sent = 0;
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
      sent += chunk.length;
      if (!res.write(chunk)) {
        hold();
        res.once('drain', release);
      }
      if (knobs.bytesPerSecond > 0) {
        const ahead = (sent / knobs.bytesPerSecond) * 1000 - (Date.now() - began);
        if (ahead > 0) {
          hold();
          setTimeout(release, ahead);
        }
      }
    });
    stream.on('end', () => (dropAt !== null ? res.destroy() : res.end()));
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    knobs,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
