/**
 * A stand-in model server for the download tests: serves a folder over HTTP on another origin than the app, the way
 * a real model host does (CORS, byte ranges), with knobs to make it slow, drop a connection or corrupt a file, and a
 * log of every request. The served model is made at test time from the committed demo model (no extra binaries).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { ROOT } from './paths';

export const HOSTED_ID = 'eva-lens-demo-hosted';
export const HOSTED_NAME = 'EVA Lens demo (hosted copy)';
/** A second model on the server, for the full-disk case (a download that must not touch the stored ones). */
export const SECOND_ID = 'eva-lens-demo-second';
export const SECOND_NAME = 'EVA Lens demo (second copy)';

export interface RequestRecord {
  path: string;
  range: string | null;
  status: number;
}

export interface ServerKnobs {
  /** Bytes per second for model files (0: as fast as possible). */
  bytesPerSecond: number;
  /** Path → byte count after which the next GET of that file loses its connection (used once). */
  dropAfter: Map<string, number>;
  /** Paths served with one byte flipped (what a broken mirror or proxy would do). */
  corrupt: Set<string>;
}

export interface ModelServer {
  url: string;
  root: string;
  log: RequestRecord[];
  knobs: ServerKnobs;
  close(): Promise<void>;
}

export const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Range',
  'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges',
  // The app is cross-origin isolated (COEP require-corp): cross-origin files must opt in.
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

/** Copies a converted-model folder (the demo's files) under another id: same ONNX bytes, new manifest id and name. */
export function writeModelCopy(targetDir: string, id: string, name: string): void {
  const source = join(ROOT, 'public', 'models', 'eva-lens-demo');
  cpSync(source, targetDir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(source, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(targetDir, 'manifest.json'), JSON.stringify({ ...manifest, id, name }, null, 2));
}

/** The served folder: the hosted copy and a catalog.json that lists it (as src/state/catalog.ts reads it). */
function buildServedFolder(): string {
  const root = mkdtempSync(join(tmpdir(), 'eva-lens-model-server-'));
  writeModelCopy(join(root, HOSTED_ID), HOSTED_ID, HOSTED_NAME);
  writeModelCopy(join(root, SECOND_ID), SECOND_ID, SECOND_NAME);
  const manifest = JSON.parse(readFileSync(join(root, HOSTED_ID, 'manifest.json'), 'utf8')) as {
    text: { tokenizer: { bytes: number } };
    variants: { dtype: string; imageModel: { bytes: number }; textModel: { bytes: number } }[];
  };
  const entry = (id: string, name: string) => ({
    id,
    name,
    license: 'MIT (this project)',
    speed: 'Instant.',
    variants: manifest.variants.map((v) => ({
      dtype: v.dtype,
      bytes: v.imageModel.bytes + v.textModel.bytes + manifest.text.tokenizer.bytes,
    })),
  });
  const catalog = { models: [entry(HOSTED_ID, HOSTED_NAME), entry(SECOND_ID, SECOND_NAME)] };
  writeFileSync(join(root, 'catalog.json'), JSON.stringify(catalog));
  return root;
}

export function parseRange(header: string | undefined, size: number): [number, number] | null {
  const match = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!match) return null;
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  return start <= end ? [start, end] : null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sendBody(
  res: ServerResponse,
  body: Buffer,
  knobs: ServerKnobs,
  dropAfter: number | null,
): Promise<void> {
  const chunk = 64 * 1024;
  let sent = 0;
  while (sent < body.length) {
    if (res.destroyed) return;
    const next = body.subarray(sent, Math.min(body.length, sent + chunk));
    if (dropAfter !== null && sent + next.length > dropAfter) {
      res.write(next.subarray(0, Math.max(0, dropAfter - sent)));
      await sleep(50);
      res.socket?.destroy(); // the connection drops mid-file, as on a flaky network
      return;
    }
    res.write(next);
    sent += next.length;
    if (knobs.bytesPerSecond > 0) await sleep((next.length / knobs.bytesPerSecond) * 1000);
  }
  res.end();
}

export async function startModelServer(): Promise<ModelServer> {
  const root = buildServedFolder();
  const log: RequestRecord[] = [];
  const knobs: ServerKnobs = { bytesPerSecond: 0, dropAfter: new Map(), corrupt: new Set() };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const record: RequestRecord = { path, range: req.headers.range ?? null, status: 0 };
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
    const file = normalize(join(root, path));
    let size = -1;
    try {
      if (file.startsWith(root)) size = statSync(file).isFile() ? statSync(file).size : -1;
    } catch {
      size = -1;
    }
    if (size < 0) {
      reply(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    let body = readFileSync(file);
    if (knobs.corrupt.has(path)) {
      body = Buffer.from(body);
      const middle = Math.floor(body.length / 2);
      body[middle] = body[middle]! ^ 0xff;
    }
    const type = path.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    const range = parseRange(req.headers.range, size);
    const headers = { 'Content-Type': type, 'Accept-Ranges': 'bytes' };
    if (range) {
      body = body.subarray(range[0], range[1] + 1);
      reply(206, {
        ...headers,
        'Content-Range': `bytes ${range[0]}-${range[1]}/${size}`,
        'Content-Length': body.length,
      });
    } else {
      reply(200, { ...headers, 'Content-Length': body.length });
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const dropAfter = knobs.dropAfter.get(path) ?? null;
    knobs.dropAfter.delete(path);
    const isModelFile = path.endsWith('.onnx');
    await sendBody(res, body, isModelFile ? knobs : { ...knobs, bytesPerSecond: 0 }, dropAfter);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    root,
    log,
    knobs,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
