/**
 * Turns a drop or paste into a flat list of Files, walking into dropped folders. Chromium offers
 * `getAsFileSystemHandle` (async iteration), every current browser `webkitGetAsEntry`; a plain file is the last
 * resort. Everything is taken from the DataTransfer synchronously: its items are gone once the event returns.
 */

/** `DataTransferItem.getAsFileSystemHandle` (File System Access API; not in TypeScript's DOM library). */
interface ItemWithHandle {
  getAsFileSystemHandle?: () => Promise<FileSystemHandle | null>;
}

interface CapturedItem {
  handle: Promise<FileSystemHandle | null> | null;
  entry: FileSystemEntry | null;
  file: File | null;
}

/** Dotfiles such as .DS_Store or a .git folder are never images; skipping them avoids noisy "skipped" notes. */
function isHidden(name: string): boolean {
  return name.startsWith('.');
}

function captureItem(item: DataTransferItem): CapturedItem {
  const getHandle = (item as DataTransferItem & ItemWithHandle).getAsFileSystemHandle;
  return {
    handle: typeof getHandle === 'function' ? getHandle.call(item).catch(() => null) : null,
    entry: typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null,
    file: item.getAsFile(),
  };
}

/** A file with its path inside the drop, e.g. 'eva02-clip-b-16/manifest.json' for a dropped folder. */
export interface PathedFile {
  path: string;
  file: File;
}

async function filesFromHandle(handle: FileSystemHandle, prefix: string): Promise<PathedFile[]> {
  if (isHidden(handle.name)) return [];
  const path = prefix + handle.name;
  if (handle.kind === 'file') return [{ path, file: await (handle as FileSystemFileHandle).getFile() }];
  const files: PathedFile[] = [];
  for await (const child of (handle as FileSystemDirectoryHandle).values()) {
    files.push(...(await filesFromHandle(child, `${path}/`)));
  }
  return files;
}

function readEntryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** readEntries returns at most ~100 entries per call, so it is called until it returns none. */
async function readAllEntries(directory: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = directory.createReader();
  const entries: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return entries;
    entries.push(...batch);
  }
}

async function filesFromEntry(entry: FileSystemEntry, prefix: string): Promise<PathedFile[]> {
  if (isHidden(entry.name)) return [];
  const path = prefix + entry.name;
  if (entry.isFile) return [{ path, file: await readEntryFile(entry as FileSystemFileEntry) }];
  if (!entry.isDirectory) return [];
  const children = await readAllEntries(entry as FileSystemDirectoryEntry);
  return (await Promise.all(children.map((child) => filesFromEntry(child, `${path}/`)))).flat();
}

async function filesFromItem({ handle, entry, file }: CapturedItem): Promise<PathedFile[]> {
  const resolvedHandle = handle ? await handle : null;
  if (resolvedHandle) return filesFromHandle(resolvedHandle, '');
  if (entry) return filesFromEntry(entry, '');
  return file ? [{ path: file.name, file }] : [];
}

/** Every file in a drop or paste with its path in the drop, folders included (in the order the browser lists them). */
export async function collectPathedFiles(dataTransfer: DataTransfer): Promise<PathedFile[]> {
  const items = dataTransfer.items
    ? Array.from(dataTransfer.items).filter((item) => item.kind === 'file')
    : [];
  if (items.length === 0) return Array.from(dataTransfer.files ?? [], (file) => ({ path: file.name, file }));
  const captured = items.map(captureItem);
  const nested = await Promise.all(
    captured.map((item) => filesFromItem(item).catch(() => [] as PathedFile[])),
  );
  return nested.flat();
}

/** Every file in a drop or paste, folders included. */
export async function collectFiles(dataTransfer: DataTransfer): Promise<File[]> {
  return (await collectPathedFiles(dataTransfer)).map(({ file }) => file);
}

/** True when a drag carries files (not text or a link), so the drop overlay shows only for those. */
export function hasFiles(dataTransfer: DataTransfer | null): boolean {
  return !!dataTransfer && Array.from(dataTransfer.types).includes('Files');
}
