/**
 * The architecture's nevers bite: ESLint (run by `npm test`) rejects an import that crosses a layer the wrong way,
 * and accepts the ones the architecture allows. Each case lints a one-line file placed in the layer it names.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function restrictedImports(filePath: string, specifier: string): Promise<number> {
  const [result] = await eslint.lintText(`import { x } from '${specifier}';\nexport const y = x;\n`, {
    filePath,
  });
  return result!.messages.filter((message) => message.ruleId === 'no-restricted-imports').length;
}

const forbidden: [string, string][] = [
  ['src/ui/results/Probe.tsx', '../../engine/image/decode'],
  ['src/ui/models/Probe.tsx', '../../worker/engineClient'],
  ['src/engine/image/probe2.ts', '../../worker/handler'],
  ['src/engine/image/probe2.ts', '../../state/store'],
  ['src/engine/hub/probe2.ts', '../../ui/shell/App'],
  ['src/state/probe2.ts', '../engine/storage/modelStore'],
  ['src/state/probe2.ts', '../worker/engineClient'],
  ['src/state/probe2.ts', '../ui/shell/App'],
  ['src/worker/probe2.ts', '../state/store'],
  ['src/core/probe2.ts', '../engine/storage/modelStore'],
  ['src/core/probe2.ts', 'react'],
];

const allowed: [string, string][] = [
  ['src/ui/results/Probe.tsx', '../../state/store'],
  ['src/ui/results/Probe.tsx', '../../core/format'],
  ['src/state/workerClient.ts', '../worker/engineClient'],
  ['src/state/probe2.ts', '../core/protocol'],
  ['src/engine/image/probe2.ts', '../storage/modelStore'],
  ['src/engine/image/probe2.ts', '../../core/errors'],
  ['src/worker/probe2.ts', '../engine/inference/zeroShotEngine'],
  ['src/core/probe2.ts', './manifest'],
];

describe('layer boundaries (eslint.config.js)', () => {
  it.each(forbidden)('%s may not import %s', { timeout: 60_000 }, async (file, specifier) => {
    expect(await restrictedImports(file, specifier)).toBe(1);
  });

  it.each(allowed)('%s may import %s', { timeout: 60_000 }, async (file, specifier) => {
    expect(await restrictedImports(file, specifier)).toBe(0);
  });
});

describe('rooms by concern', () => {
  it('no folder of src/engine or src/ui holds more than 16 files (a bigger room is split by concern)', async () => {
    const { readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const crowded: string[] = [];
    const visit = (dir: string) => {
      const entries = readdirSync(dir, { withFileTypes: true });
      const files = entries.filter((entry) => entry.isFile()).length;
      if (files > 16) crowded.push(`${dir}: ${files} files`);
      for (const entry of entries) if (entry.isDirectory()) visit(join(dir, entry.name));
    };
    visit('src/engine');
    visit('src/ui');
    expect(crowded).toEqual([]);
  });
});
