import { describe, expect, it } from 'vitest';
import { collectFiles } from './collectFiles';

const file = (name: string) => new File(['x'], name, { type: 'image/png' });

/** A webkitGetAsEntry-style tree whose directory reader hands out entries in batches of two. */
function fileEntry(name: string): FileSystemEntry {
  return { name, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(file(name)) } as never;
}
function directoryEntry(name: string, children: FileSystemEntry[]): FileSystemEntry {
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader: () => {
      let offset = 0;
      return {
        readEntries: (ok: (entries: FileSystemEntry[]) => void) => {
          ok(children.slice(offset, offset + 2));
          offset += 2;
        },
      };
    },
  } as never;
}

function transfer(items: object[]): DataTransfer {
  return { items, files: [], types: ['Files'] } as unknown as DataTransfer;
}

describe('collectFiles', () => {
  it('walks dropped folders through webkitGetAsEntry, reading every batch and skipping dotfiles', async () => {
    const tree = directoryEntry('photos', [
      fileEntry('a.png'),
      fileEntry('.DS_Store'),
      directoryEntry('nested', [fileEntry('b.png'), fileEntry('c.png'), fileEntry('d.png')]),
      fileEntry('e.png'),
    ]);
    const item = { kind: 'file', webkitGetAsEntry: () => tree, getAsFile: () => null };
    const names = (await collectFiles(transfer([item]))).map((f) => f.name);
    expect(names).toEqual(['a.png', 'b.png', 'c.png', 'd.png', 'e.png']);
  });

  it('prefers getAsFileSystemHandle and iterates directory handles', async () => {
    const fileHandle = (name: string) => ({ kind: 'file', name, getFile: async () => file(name) });
    const directory = {
      kind: 'directory',
      name: 'album',
      async *values() {
        yield fileHandle('x.png');
        yield {
          kind: 'directory',
          name: 'inner',
          async *values() {
            yield fileHandle('y.png');
          },
        };
      },
    };
    const item = {
      kind: 'file',
      getAsFileSystemHandle: async () => directory,
      webkitGetAsEntry: () => null,
      getAsFile: () => null,
    };
    const names = (await collectFiles(transfer([item]))).map((f) => f.name);
    expect(names).toEqual(['x.png', 'y.png']);
  });

  it('falls back to the plain file, ignores non-file items, and uses .files without items', async () => {
    const plain = {
      kind: 'file',
      getAsFileSystemHandle: async () => null,
      getAsFile: () => file('pasted.png'),
    };
    const text = { kind: 'string', getAsFile: () => null };
    expect((await collectFiles(transfer([text, plain]))).map((f) => f.name)).toEqual(['pasted.png']);
    const legacy = { files: [file('old.png')], types: ['Files'] } as unknown as DataTransfer;
    expect((await collectFiles(legacy)).map((f) => f.name)).toEqual(['old.png']);
  });
});
