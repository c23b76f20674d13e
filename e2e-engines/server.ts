/**
 * The production build the engine suite runs against: built once per run into its own folder (so it never races the
 * Playwright suite's dist/), and served by `vite preview` with the app's COOP/COEP/CSP headers (vite.config.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../e2e/support/paths';

export const BUILD_DIR = join(ROOT, 'test-results', 'engines-dist');

export function buildApp(outDir = BUILD_DIR): void {
  // ENGINES_REUSE_BUILD=1 skips the build when one is there (for iterating on one scenario).
  if (process.env.ENGINES_REUSE_BUILD === '1' && existsSync(join(outDir, 'index.html'))) return;
  const result = spawnSync(
    'npx',
    ['vite', 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) throw new Error(`vite build failed (exit ${result.status}).`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface Preview {
  url: string;
  stop(): Promise<void>;
}

/** `vite preview` of the build on a free port; resolves once it answers. */
export async function startPreview(outDir = BUILD_DIR): Promise<Preview> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'npx',
    ['vite', 'preview', '--outDir', outDir, '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    { cwd: ROOT, stdio: 'ignore', detached: true },
  );
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`vite preview exited with ${child.exitCode}.`);
    if (Date.now() > deadline) throw new Error('vite preview did not answer within 60 s.');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null || !child.pid) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      // A server that does not stop on SIGTERM within 10 s is killed, so a scenario never waits on it forever.
      const killed = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 10_000);
      await exited;
      clearTimeout(killed);
    },
  };
}
