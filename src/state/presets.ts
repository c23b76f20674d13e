/**
 * Label presets: class lists with their prompt templates, stored as data files in src/data/presets/ (each names
 * its source and licence). They are loaded only when chosen (each is its own chunk, precached for offline use).
 * Their label embeddings are remembered per model by the embedding cache like any label's, so choosing a preset
 * a second time reads them back instead of running the text tower.
 */

export interface LabelPreset {
  id: string;
  name: string;
  source: string;
  licence: string;
  labels: string[];
  templates: string[];
}

export interface PresetEntry {
  id: string;
  name: string;
  /**
   * Labels it gives once repeated names are merged, and its templates: known before the file is loaded, so the
   * menu can say what a preset will run (presets.test.ts checks them against the files).
   */
  labelCount: number;
  templateCount: number;
  load: () => Promise<unknown>;
}

export const PRESETS: readonly PresetEntry[] = [
  {
    id: 'imagenet-1k',
    // CLIP's list of the 1,000 classes names two pairs of classes alike ('missile' for classes 657 and 744,
    // 'sunglasses' for 836 and 837); a label is its name, so those merge into one label each: 998 labels.
    name: 'ImageNet-1k (1,000 classes, 998 distinct names, 80 prompts)',
    labelCount: 998,
    templateCount: 80,
    load: () => import('../data/presets/imagenet-1k.json'),
  },
  {
    id: 'cifar-10',
    name: 'CIFAR-10 (10 classes, 18 prompts)',
    labelCount: 10,
    templateCount: 18,
    load: () => import('../data/presets/cifar-10.json'),
  },
  {
    id: 'cifar-100',
    name: 'CIFAR-100 (100 classes, 18 prompts)',
    labelCount: 100,
    templateCount: 18,
    load: () => import('../data/presets/cifar-100.json'),
  },
  {
    id: 'documents',
    name: 'Document types',
    labelCount: 18,
    templateCount: 3,
    load: () => import('../data/presets/documents.json'),
  },
  {
    id: 'animals',
    name: 'Animals',
    labelCount: 18,
    templateCount: 3,
    load: () => import('../data/presets/animals.json'),
  },
  {
    id: 'scenes',
    name: 'Scenes and places',
    labelCount: 18,
    templateCount: 3,
    load: () => import('../data/presets/scenes.json'),
  },
];

/** What choosing a preset will run through the text tower, and (when measured) how long that takes here. */
export interface PresetRun {
  labels: number;
  templates: number;
  /** labels × templates. */
  prompts: number;
  /**
   * prompts × the per-prompt time measured on this device for the model in use, in seconds; null when nothing was
   * measured yet (never a guess). An upper bound: labels the embedding cache remembers are not run again.
   */
  seconds: number | null;
}

export function presetRun(entry: PresetEntry, msPerPrompt: number | null): PresetRun {
  const prompts = entry.labelCount * entry.templateCount;
  return {
    labels: entry.labelCount,
    templates: entry.templateCount,
    prompts,
    seconds: msPerPrompt === null ? null : (prompts * msPerPrompt) / 1000,
  };
}

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string');

/** Checks a preset file's shape, so a broken data file says so instead of leaving the labels half-set. */
export function parsePreset(data: unknown): LabelPreset {
  const value = (data as { default?: unknown }).default ?? data;
  const { id, name, source, licence, labels, templates } = value as Record<string, unknown>;
  if (
    typeof id !== 'string' ||
    typeof name !== 'string' ||
    typeof source !== 'string' ||
    typeof licence !== 'string' ||
    !isStringList(labels) ||
    !isStringList(templates)
  ) {
    throw new Error('The preset file is damaged (it needs id, name, source, licence, labels and templates).');
  }
  return { id, name, source, licence, labels, templates };
}

export async function loadPreset(id: string): Promise<LabelPreset> {
  const entry = PRESETS.find((preset) => preset.id === id);
  if (!entry) throw new Error(`There is no preset "${id}".`);
  return parsePreset(await entry.load());
}
