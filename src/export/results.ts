/**
 * What "Export" writes: every image's score for every label (CSV and JSON), and the plan for sorting the images
 * into one folder per top label. Pure functions of the results, so they are tested without a browser.
 */
import { toCsv } from './csv';

export interface ExportScore {
  label: string;
  /** softmax(logitScale × cosine) over the labels (single-label mode) or the label's own probability. */
  probability: number;
  cosine: number;
}

export interface ExportImage {
  id: string;
  name: string;
  /** Every label, most probable first; empty for an image that could not be embedded. */
  scores: ExportScore[];
  /** The outcome shown for the image: a label, 'none of these', or null when it has no scores. */
  top: string | null;
  /** Sort into folders: the folders the image goes into (multi-label: one per applied label); default [top]. */
  folders?: string[];
  error: string | null;
}

export interface ExportContext {
  modelId: string;
  modelName: string;
  mode: string;
  labels: string[];
  templates: string[];
  logitScale: number;
  exportedAt: Date;
}

const round = (value: number) => Number(value.toFixed(6));

/** One row per image and label, ranked within the image; images that failed get one row with their message. */
export function resultsCsv(context: ExportContext, images: readonly ExportImage[]): string {
  const rows = images.flatMap((image) =>
    image.scores.length === 0
      ? [[image.name, null, null, null, null, image.top, context.modelId, image.error]]
      : image.scores.map((score, index) => [
          image.name,
          index + 1,
          score.label,
          round(score.probability),
          round(score.cosine),
          image.top,
          context.modelId,
          null,
        ]),
  );
  return toCsv(['file', 'rank', 'label', 'probability', 'cosine', 'outcome', 'model', 'error'], rows);
}

export function resultsJson(context: ExportContext, images: readonly ExportImage[]): string {
  return JSON.stringify(
    {
      model: { id: context.modelId, name: context.modelName, logitScale: context.logitScale },
      mode: context.mode,
      labels: context.labels,
      templates: context.templates,
      exportedAt: context.exportedAt.toISOString(),
      images: images.map((image) => ({
        file: image.name,
        outcome: image.top,
        ...(image.error ? { error: image.error } : {}),
        scores: image.scores.map((score) => ({
          label: score.label,
          probability: round(score.probability),
          cosine: round(score.cosine),
        })),
      })),
    },
    null,
    2,
  );
}

/** Characters no common file system accepts in a name, control characters included. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f<>:"/\\|?*\u007f]/g;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/** A folder or file name that Windows, macOS and Linux all accept, close to what the person typed. */
export function safeName(text: string, fallback = 'unnamed'): string {
  let name = text.replace(UNSAFE, '_').replace(/\s+/g, ' ').trim();
  name = name.replace(/[. ]+$/, ''); // Windows drops trailing dots and spaces
  if (name.length > 100) name = name.slice(0, 100).trim();
  if (name === '' || /^\.+$/.test(name)) return fallback;
  return WINDOWS_RESERVED.test(name.split('.')[0]!) ? `${name}_` : name;
}

export interface PlannedFile {
  imageId: string;
  folder: string;
  name: string;
}

/**
 * One folder per top label ("none of these" and images without a result get their own folders; in multi-label mode
 * an image goes into the folder of each label that applies); two files of one name in a folder become
 * "name (2).ext", as file managers do.
 */
export function folderPlan(images: readonly ExportImage[]): PlannedFile[] {
  const taken = new Map<string, Set<string>>();
  return images.flatMap((image) =>
    (image.folders ?? [image.top ?? 'not classified']).map((label) => {
      const folder = safeName(label);
      const names = taken.get(folder) ?? new Set<string>();
      taken.set(folder, names);
      const original = safeName(image.name.split(/[\\/]/).pop() ?? image.name, 'image');
      const dot = original.lastIndexOf('.');
      const [stem, ext] = dot > 0 ? [original.slice(0, dot), original.slice(dot)] : [original, ''];
      let name = original;
      for (let n = 2; names.has(name.toLowerCase()); n++) name = `${stem} (${n})${ext}`;
      names.add(name.toLowerCase());
      return { imageId: image.id, folder, name };
    }),
  );
}
