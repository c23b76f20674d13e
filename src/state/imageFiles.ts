/** Which dropped files the app takes, and how it recognises a file it already has. */

/** Extensions accepted when the browser gives no MIME type (common for files from folders on some systems). */
const IMAGE_EXTENSIONS = /\.(?:jpe?g|png|gif|webp|bmp|avif|ico)$/i;

/**
 * True for raster images the worker can decode with createImageBitmap. SVG is refused: it cannot be decoded
 * inside a worker.
 */
export function isImageFile(file: Pick<File, 'name' | 'type'>): boolean {
  if (file.type === 'image/svg+xml') return false;
  if (file.type.startsWith('image/')) return true;
  return file.type === '' && IMAGE_EXTENSIONS.test(file.name);
}

/** name + size + lastModified: the same file added twice (dropped again, or a folder re-added) maps to one key. */
export function fileKeyOf(file: Pick<File, 'name' | 'size' | 'lastModified'>): string {
  return `${file.name}\u0000${file.size}\u0000${file.lastModified}`;
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
