/**
 * The Export actions: results as CSV or JSON downloads, and "Sort into folders" (into a picked folder where the
 * File System Access API exists, else a zip download). Each one says in a notice what it did.
 */
import { describeError } from '../core/errors';
import { folderPlan, resultsCsv, resultsJson } from '../export/results';
import { writeIntoDirectory, zipOfPlan, type DirectoryLike } from '../export/sortIntoFolders';
import { plural } from './imageFiles';
import { imageFileOf } from './imagePipeline';
import { exportSnapshot, type ExportSnapshot } from './exportSource';
import { useLensStore } from './store';

type DirectoryPicker = (options: { id: string; mode: 'readwrite' }) => Promise<DirectoryLike>;

/** Saves a Blob as a download with the given name. */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own reference by now; the URL can go once the click's task is over.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function snapshotOrSay(): ExportSnapshot | null {
  const store = useLensStore.getState();
  const snapshot = exportSnapshot(store);
  if (!snapshot || snapshot.images.length === 0) {
    store.pushNotice('Nothing to export yet: add images and labels first.', 'error');
    return null;
  }
  return snapshot;
}

/** `eva-lens-<model>-<date>`; a model id that already starts with the app's name does not repeat it. */
export function exportBaseName(modelId: string, exportedAt: Date): string {
  return `eva-lens-${modelId.replace(/^eva-lens-/, '')}-${exportedAt.toISOString().slice(0, 10)}`;
}

function baseName(snapshot: ExportSnapshot): string {
  return exportBaseName(snapshot.context.modelId, snapshot.context.exportedAt);
}

export function exportResults(format: 'csv' | 'json'): void {
  const snapshot = snapshotOrSay();
  if (!snapshot) return;
  const text =
    format === 'csv'
      ? resultsCsv(snapshot.context, snapshot.images)
      : resultsJson(snapshot.context, snapshot.images);
  const type = format === 'csv' ? 'text/csv;charset=utf-8' : 'application/json';
  downloadBlob(new Blob([text], { type }), `${baseName(snapshot)}.${format}`);
  useLensStore
    .getState()
    .pushNotice(`Exported ${plural(snapshot.images.length, 'image')} as ${format.toUpperCase()}.`);
}

function directoryPicker(): DirectoryPicker | null {
  const picker = (window as unknown as { showDirectoryPicker?: DirectoryPicker }).showDirectoryPicker;
  return typeof picker === 'function' ? picker.bind(window) : null;
}

/**
 * Copies every image into a folder named after its top label. Images whose file the page no longer holds (they
 * came back from the cache after a reload) cannot be copied and are counted in the notice.
 */
export async function sortIntoFolders(): Promise<void> {
  const snapshot = snapshotOrSay();
  if (!snapshot) return;
  const store = useLensStore.getState();
  const plan = folderPlan(snapshot.images);
  const folders = new Set(plan.map((item) => item.folder)).size;
  const picker = directoryPicker();
  try {
    let written: number;
    let missing: number;
    if (picker) {
      let root: DirectoryLike;
      try {
        root = await picker({ id: 'eva-lens-sort', mode: 'readwrite' });
      } catch (error) {
        if (error instanceof DOMException && error.name === 'AbortError') return; // the person closed the picker
        throw error;
      }
      ({ written, missing } = await writeIntoDirectory(root, plan, imageFileOf));
    } else {
      const result = await zipOfPlan(plan, imageFileOf);
      ({ written, missing } = result);
      downloadBlob(result.zip, `${baseName(snapshot)}-sorted.zip`);
    }
    const left =
      missing > 0 ? ` ${plural(missing, 'copy', 'copies')} could not be made: add the files again.` : '';
    // Multi-label mode puts an image into each folder whose label applies: say so when that made extra copies.
    const images = new Set(plan.filter((item) => imageFileOf(item.imageId)).map((item) => item.imageId)).size;
    const copies = written > images ? ` (${written} copies: one in each folder whose label applies)` : '';
    store.pushNotice(
      `Sorted ${plural(images, 'image')} into ${plural(folders, 'folder')}${copies}${picker ? '' : ' (zip download)'}.${left}`,
      missing > 0 ? 'error' : 'info',
    );
  } catch (error) {
    store.pushNotice(`Sorting into folders failed: ${describeError(error)}`, 'error');
  }
}
