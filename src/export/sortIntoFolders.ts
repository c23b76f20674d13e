/**
 * Copies the images into one folder per top label: straight into a folder the person picks where the File System
 * Access API exists (Chromium), as a zip download elsewhere. The originals are never moved or changed.
 */
import type { PlannedFile } from './results';
import { zipBlob } from './zip';

/** The parts of FileSystemDirectoryHandle used here (OPFS and picked folders both have them). */
export interface DirectoryLike {
  getDirectoryHandle(name: string, options: { create: true }): Promise<DirectoryLike>;
  getFileHandle(
    name: string,
    options: { create: true },
  ): Promise<{ createWritable(): Promise<{ write(data: Blob): Promise<void>; close(): Promise<void> }> }>;
}

export type FileOf = (imageId: string) => Blob | undefined;

export interface SortReport {
  written: number;
  /** Images whose file is no longer held (removed, or from a closed tab's cache only). */
  missing: number;
}

/** Writes each planned file under `root`/folder/name, one at a time, so memory holds one photo at most. */
export async function writeIntoDirectory(
  root: DirectoryLike,
  plan: readonly PlannedFile[],
  fileOf: FileOf,
  onProgress?: (done: number, total: number) => void,
): Promise<SortReport> {
  const folders = new Map<string, DirectoryLike>();
  let written = 0;
  let missing = 0;
  for (const [index, item] of plan.entries()) {
    const file = fileOf(item.imageId);
    if (!file) {
      missing++;
      continue;
    }
    let folder = folders.get(item.folder);
    if (!folder) {
      folder = await root.getDirectoryHandle(item.folder, { create: true });
      folders.set(item.folder, folder);
    }
    const writable = await (await folder.getFileHandle(item.name, { create: true })).createWritable();
    await writable.write(file);
    await writable.close();
    written++;
    onProgress?.(index + 1, plan.length);
  }
  return { written, missing };
}

/** The same folders as a zip (stored, not compressed: photos are compressed already). */
export async function zipOfPlan(
  plan: readonly PlannedFile[],
  fileOf: FileOf,
): Promise<{ zip: Blob } & SortReport> {
  const entries = plan.flatMap((item) => {
    const data = fileOf(item.imageId);
    return data ? [{ path: `${item.folder}/${item.name}`, data }] : [];
  });
  return { zip: await zipBlob(entries), written: entries.length, missing: plan.length - entries.length };
}
