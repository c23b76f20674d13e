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

async function filesFromHandle(handle: FileSystemHandle): Promise<File[]> {
  if (isHidden(handle.name)) return [];
  if (handle.kind === 'file') return [await (handle as FileSystemFileHandle).getFile()];
  const files: File[] = [];
  for await (const child of (handle as FileSystemDirectoryHandle).values()) {
    files.push(...(await filesFromHandle(child)));
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

async function filesFromEntry(entry: FileSystemEntry): Promise<File[]> {
  if (isHidden(entry.name)) return [];
  if (entry.isFile) return [await readEntryFile(entry as FileSystemFileEntry)];
  if (!entry.isDirectory) return [];
  const children = await readAllEntries(entry as FileSystemDirectoryEntry);
  return (await Promise.all(children.map(filesFromEntry))).flat();
}

async function filesFromItem({ handle, entry, file }: CapturedItem): Promise<File[]> {
  const resolvedHandle = handle ? await handle : null;
  if (resolvedHandle) return filesFromHandle(resolvedHandle);
  if (entry) return filesFromEntry(entry);
  return file ? [file] : [];
}

/** Every file in a drop or paste, folders included (in the order the browser lists them). */
export async function collectFiles(dataTransfer: DataTransfer): Promise<File[]> {
  const items = dataTransfer.items
    ? Array.from(dataTransfer.items).filter((item) => item.kind === 'file')
    : [];
  if (items.length === 0) return Array.from(dataTransfer.files ?? []);
  const captured = items.map(captureItem);
  const nested = await Promise.all(captured.map((item) => filesFromItem(item).catch(() => [] as File[])));
  return nested.flat();
}

/** True when a drag carries files (not text or a link), so the drop overlay shows only for those. */
export function hasFiles(dataTransfer: DataTransfer | null): boolean {
  return !!dataTransfer && Array.from(dataTransfer.types).includes('Files');
}
