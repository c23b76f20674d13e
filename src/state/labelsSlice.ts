import type { StateCreator } from 'zustand';
import { DEFAULT_TEMPLATES } from '../engine/templates';
import type { LensState } from './store';

export interface Label {
  id: string;
  text: string;
}

/**
 * Text embeddings for one snapshot of the labels. The ids and texts are kept with the vectors so that, while a
 * newer set is being embedded, the UI keeps showing scores that match the names it prints.
 */
export interface LabelEmbeddings {
  labelIds: string[];
  labelTexts: string[];
  /** `[labelIds.length × dim]`, each row L2-normalised. */
  embeddings: Float32Array;
  dim: number;
  /** Per label: a prompt was longer than the text context and was cut. */
  truncated: boolean[];
  ms: number;
  /** Labels whose embedding was remembered from an earlier run (the text tower was not needed for them). */
  fromCache: number;
}

export type LabelEmbeddingStatus = 'idle' | 'embedding' | 'ready' | 'error';

export interface LabelsSlice {
  /** Persisted. */
  labels: Label[];
  /** Prompt templates, `{}` standing for the label. Persisted. */
  templates: string[];
  labelEmbeddings: LabelEmbeddings | null;
  labelEmbeddingStatus: LabelEmbeddingStatus;
  labelEmbeddingError: string | null;
  /** The label the grid is sorted by, or null for the order images were added in. */
  selectedLabelId: string | null;

  /** Adds a label; returns false when it is blank or already present (case-insensitive). */
  addLabel(text: string): boolean;
  /** Renames a label; returns false (and changes nothing) when the new text is blank or taken by another label. */
  updateLabel(id: string, text: string): boolean;
  removeLabel(id: string): void;
  /** Replaces every label with the given texts (blank and duplicate lines dropped). */
  /** Replaces the labels; blank lines and repeats are left out and counted. */
  replaceLabels(texts: readonly string[]): ReplacedLabels;
  setTemplates(templates: readonly string[]): void;
  startLabelEmbedding(): void;
  setLabelEmbeddings(embeddings: LabelEmbeddings | null): void;
  setLabelEmbeddingError(message: string): void;
  /** Selects a label to sort by; selecting the selected label again clears the sort. */
  toggleSelectedLabel(id: string): void;
}

export interface ReplacedLabels {
  kept: number;
  /** Empty or whitespace-only lines. */
  blank: number;
  /** Lines equal to an earlier one, ignoring case and extra spaces. */
  duplicates: number;
}

let labelCounter = 0;
/** Unique within a page and across reloads (persisted ids keep their time stamp prefix). */
export function newLabelId(): string {
  labelCounter += 1;
  return `label-${Date.now().toString(36)}-${labelCounter}`;
}

/** Trimmed with inner runs of whitespace collapsed, so "red  circle " and "red circle" are one label. */
export function cleanLabelText(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

function isTaken(labels: readonly Label[], text: string, exceptId?: string): boolean {
  const key = text.toLocaleLowerCase();
  return labels.some((label) => label.id !== exceptId && label.text.toLocaleLowerCase() === key);
}

export const createLabelsSlice: StateCreator<LensState, [], [], LabelsSlice> = (set, get) => ({
  labels: [],
  templates: [...DEFAULT_TEMPLATES],
  labelEmbeddings: null,
  labelEmbeddingStatus: 'idle',
  labelEmbeddingError: null,
  selectedLabelId: null,

  addLabel: (text) => {
    const clean = cleanLabelText(text);
    if (clean === '' || isTaken(get().labels, clean)) return false;
    set((state) => ({ labels: [...state.labels, { id: newLabelId(), text: clean }] }));
    return true;
  },
  updateLabel: (id, text) => {
    const clean = cleanLabelText(text);
    if (clean === '' || isTaken(get().labels, clean, id)) return false;
    set((state) => ({
      labels: state.labels.map((label) => (label.id === id ? { ...label, text: clean } : label)),
    }));
    return true;
  },
  removeLabel: (id) =>
    set((state) => ({
      labels: state.labels.filter((label) => label.id !== id),
      selectedLabelId: state.selectedLabelId === id ? null : state.selectedLabelId,
    })),
  replaceLabels: (texts) => {
    const labels: Label[] = [];
    const taken = new Set<string>();
    let blank = 0;
    let duplicates = 0;
    for (const text of texts) {
      const clean = cleanLabelText(text);
      // A Set, not isTaken's scan: a pasted list of 10,000 labels would otherwise take 50 M comparisons.
      const key = clean.toLocaleLowerCase();
      if (clean === '') blank++;
      else if (taken.has(key)) duplicates++;
      else {
        taken.add(key);
        labels.push({ id: newLabelId(), text: clean });
      }
    }
    set({ labels, selectedLabelId: null });
    return { kept: labels.length, blank, duplicates };
  },
  setTemplates: (templates) => {
    const cleaned = templates.map((template) => template.trim()).filter((template) => template !== '');
    set({ templates: cleaned.length > 0 ? cleaned : [...DEFAULT_TEMPLATES] });
  },
  startLabelEmbedding: () => set({ labelEmbeddingStatus: 'embedding', labelEmbeddingError: null }),
  setLabelEmbeddings: (embeddings) =>
    set({
      labelEmbeddings: embeddings,
      labelEmbeddingStatus: embeddings ? 'ready' : 'idle',
      labelEmbeddingError: null,
    }),
  setLabelEmbeddingError: (message) => set({ labelEmbeddingStatus: 'error', labelEmbeddingError: message }),
  toggleSelectedLabel: (id) =>
    set((state) => ({ selectedLabelId: state.selectedLabelId === id ? null : id })),
});
