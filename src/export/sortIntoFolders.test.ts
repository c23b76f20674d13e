import { describe, expect, it } from 'vitest';
import { writeIntoDirectory, zipOfPlan, type DirectoryLike } from './sortIntoFolders';

/** An in-memory folder tree with the File System Access methods used. */
function memoryDirectory(files: Map<string, Blob>, prefix = ''): DirectoryLike {
  return {
    getDirectoryHandle: async (name) => memoryDirectory(files, `${prefix}${name}/`),
    getFileHandle: async (name) => ({
      createWritable: async () => {
        let data: Blob | null = null;
        return {
          write: async (blob: Blob) => {
            data = blob;
          },
          close: async () => {
            files.set(`${prefix}${name}`, data!);
          },
        };
      },
    }),
  };
}

const plan = [
  { imageId: 'a', folder: 'red star', name: 'a.png' },
  { imageId: 'b', folder: 'blue star', name: 'b.png' },
  { imageId: 'gone', folder: 'blue star', name: 'gone.png' },
];
const blobs: Record<string, Blob> = { a: new Blob(['A']), b: new Blob(['BB']) };

describe('writeIntoDirectory', () => {
  it('writes each file into its label folder and counts the ones no longer held', async () => {
    const files = new Map<string, Blob>();
    const progress: number[] = [];
    const report = await writeIntoDirectory(
      memoryDirectory(files),
      plan,
      (id) => blobs[id],
      (done) => progress.push(done),
    );
    expect(report).toEqual({ written: 2, missing: 1 });
    expect([...files.keys()]).toEqual(['red star/a.png', 'blue star/b.png']);
    expect(await files.get('blue star/b.png')!.text()).toBe('BB');
    expect(progress).toEqual([1, 2]);
  });
});

describe('zipOfPlan', () => {
  it('zips the same folders', async () => {
    const { zip, written, missing } = await zipOfPlan(plan, (id) => blobs[id]);
    expect([written, missing]).toEqual([2, 1]);
    const text = new TextDecoder().decode(new Uint8Array(await zip.arrayBuffer()));
    expect(text).toContain('red star/a.png');
    expect(text).toContain('blue star/b.png');
  });
});
