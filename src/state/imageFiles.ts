/** Which dropped files the app takes, and how it recognises a file it already has. */

/** Extensions of pictures, taken when the browser gives no MIME type (common for files from folders). */
const IMAGE_EXTENSIONS = /\.(?:jpe?g|jfif|png|gif|webp|bmp|avif|heic|heif|ico|svg)$/i;
/** A name with no extension at all ('IMG_0001', 'noext'): only its bytes can say what it is (not '.DS_Store'). */
const NO_EXTENSION = /^[^.]+$/;

/**
 * True for files the worker should look at: it decides by their first bytes (src/engine/image/imageHeader.ts) what they
 * are, so a PNG without an extension is classified and an HTML page named .jpg is named as a web page. Only files
 * that say they are something else (text/plain, application/pdf, a .docx) are skipped here, unread.
 */
export function isImageFile(file: Pick<File, 'name' | 'type'>): boolean {
  if (file.type.startsWith('image/')) return true;
  if (file.type !== '' && file.type !== 'application/octet-stream') return false;
  return IMAGE_EXTENSIONS.test(file.name) || NO_EXTENSION.test(file.name);
}

/** name + size + lastModified: the same file added twice (dropped again, or a folder re-added) maps to one key. */
export function fileKeyOf(file: Pick<File, 'name' | 'size' | 'lastModified'>): string {
  return `${file.name}\u0000${file.size}\u0000${file.lastModified}`;
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
