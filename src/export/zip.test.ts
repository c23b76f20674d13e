import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON } from '../test/python';
import { crc32, zipBlob } from './zip';

describe('crc32', () => {
  it('matches the standard check value and continues across chunks', () => {
    const bytes = new TextEncoder().encode('123456789');
    expect(crc32(bytes)).toBe(0xcbf43926);
    expect(crc32(bytes.subarray(4), crc32(bytes.subarray(0, 4)))).toBe(0xcbf43926);
  });
});

describe('zipBlob', () => {
  it("writes an archive Python's zipfile reads back byte for byte, with UTF-8 names and folders", async () => {
    const photo = new Uint8Array(100_000).map((_, i) => (i * 31) % 256);
    const blob = await zipBlob([
      { path: 'red star/photo 1.png', data: new Blob([photo]), modified: new Date(2024, 4, 17, 10, 30, 8) },
      { path: 'ünïcode ✓/ä.txt', data: new Blob(['hello']) },
      { path: 'empty.bin', data: new Blob([]) },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'eva-lens-zip-'));
    try {
      const file = join(dir, 'out.zip');
      writeFileSync(file, new Uint8Array(await blob.arrayBuffer()));
      const report = execFileSync(
        PYTHON,
        [
          '-c',
          `import json, sys, zipfile, hashlib
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, i.file_size, hashlib.sha256(z.read(i)).hexdigest(), list(i.date_time)] for i in z.infolist()]))`,
          file,
        ],
        { encoding: 'utf8' },
      );
      const entries = JSON.parse(report) as [string, number, string, number[]][];
      const sha = (bytes: Uint8Array) =>
        execFileSync('sha256sum', { input: bytes, encoding: 'utf8' }).split(' ')[0];
      expect(entries.map(([name, size]) => [name, size])).toEqual([
        ['red star/photo 1.png', 100_000],
        ['ünïcode ✓/ä.txt', 5],
        ['empty.bin', 0],
      ]);
      expect(entries[0]![2]).toBe(sha(photo));
      expect(entries[0]![3]).toEqual([2024, 5, 17, 10, 30, 8]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
