import type { StateCreator } from 'zustand';
import { DEFAULT_TEMPLATES } from '../core/templates';
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
  /** The templates they were embedded with, so Cancel can put back the exact set these vectors belong to. */
  templates?: string[];
  /** `[labelIds.length × dim]`, each row L2-normalised. */
  embeddings: Float32Array;
  dim: number;
  /** Per label: a prompt was longer than the text context and was cut. */
  truncated: boolean[];
  ms: number;
  /** Labels whose embedding was remembered from an earlier run (the text tower was not needed for them). */
  fromCache: number;
}

/** 'cancelled': the person stopped embedding labels that had no earlier embeddings to go back to. */
export type LabelEmbeddingStatus = 'idle' | 'embedding' | 'ready' | 'error' | 'cancelled';

/** How far the text tower is with the current label set (prompts = labels × templates, remembered ones excluded). */
export interface LabelEmbeddingProgress {
  done: number;
  total: number;
  /** When the first progress event arrived (ms, the bridge's clock), for the time left. */
  startedAt: number;
  /** When `done` last changed. */
  updatedAt: number;
}

/** The text tower's measured time per prompt on this device in this session, for the model it was measured on. */
export interface PromptSpeed {
  /** Model id, backend and dtype: another model or backend has another speed. */
  modelKey: string;
  msPerPrompt: number;
}

/** What the per-prompt speed is measured for: another model, backend or dtype runs at another speed. */
export function promptSpeedKey(state: Pick<LensState, 'activeModelId' | 'model'>): string | null {
  return state.model ? `${state.activeModelId}/${state.model.backend}/${state.model.dtype}` : null;
}

/** The measured text-tower milliseconds per prompt for the model in use, or null when not measured this session. */
export function selectMsPerPrompt(state: LensState): number | null {
  const key = promptSpeedKey(state);
  return key !== null && state.promptSpeed?.modelKey === key ? state.promptSpeed.msPerPrompt : null;
}

/** The labels and templates before one edit, for Undo. */
export interface LabelEdit {
  labels: Label[];
  templates: string[];
  /** What the edit did, for the Undo button's name ("Undo remove “cat”"). */
  description: string;
}

/** Undo reaches this many edits back. */
export const UNDO_DEPTH = 50;

export interface LabelsSlice {
  /** Persisted. */
  labels: Label[];
  /** Prompt templates, `{}` standing for the label. Persisted. */
  templates: string[];
  labelEmbeddings: LabelEmbeddings | null;
  labelEmbeddingStatus: LabelEmbeddingStatus;
  labelEmbeddingError: string | null;
  labelEmbeddingProgress: LabelEmbeddingProgress | null;
  /** Null until a label set of more than one batch was embedded with this model in this session. */
  promptSpeed: PromptSpeed | null;
  /** The label the grid is sorted by, or null for the order images were added in. */
  selectedLabelId: string | null;
  /** Earlier label sets, newest last (not persisted: Undo is for this visit). */
  labelUndo: LabelEdit[];

  /** Adds a label; returns false when it is blank or already present (case-insensitive). */
  addLabel(text: string): boolean;
  /** Renames a label; returns false (and changes nothing) when the new text is blank or taken by another label. */
  updateLabel(id: string, text: string): boolean;
  removeLabel(id: string): void;
  /** Replaces every label with the given texts (blank and duplicate lines dropped). */
  /** Replaces the labels; blank lines and repeats are left out and counted. */
  replaceLabels(texts: readonly string[]): ReplacedLabels;
  /** replaceLabels for a list cleaned beforehand (cleanLabelListInSteps). */
  replaceWithCleanLabels(cleaned: CleanLabelList): ReplacedLabels;
  setTemplates(templates: readonly string[]): void;
  /** Labels and templates together in one undoable step (a preset). */
  replaceLabelSet(
    texts: readonly string[],
    templates: readonly string[],
    description: string,
  ): ReplacedLabels;
  /** Puts back the labels and templates before the last edit; false when there is nothing to undo. */
  undoLabelEdit(): boolean;
  startLabelEmbedding(): void;
  setLabelEmbeddings(embeddings: LabelEmbeddings | null): void;
  setLabelEmbeddingError(message: string): void;
  setLabelEmbeddingProgress(done: number, total: number, now: number): void;
  setPromptSpeed(speed: PromptSpeed): void;
  /**
   * After the person cancelled embedding: the labels (and templates) whose embeddings the cards show are put back,
   * and the cancelled set goes on the Undo stack; with no earlier embeddings the labels stay, marked 'cancelled'.
   */
  cancelLabelEmbedding(): void;
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

/** A cleaned list of label texts, ready for the store, and what was left out of it. */
export type CleanLabelList = { labels: Label[] } & ReplacedLabels;

/** Cleans lines `from`…`to` of `texts` into `into`: blank lines and repeats (ignoring case and extra spaces) counted. */
function cleanLines(
  texts: readonly string[],
  from: number,
  to: number,
  into: CleanLabelList,
  taken: Set<string>,
) {
  for (let i = from; i < to; i++) {
    const clean = cleanLabelText(texts[i]!);
    // A Set, not isTaken's scan: a pasted list of 10,000 labels would otherwise take 50 M comparisons.
    const key = clean.toLocaleLowerCase();
    if (clean === '') into.blank++;
    else if (taken.has(key)) into.duplicates++;
    else {
      taken.add(key);
      into.labels.push({ id: newLabelId(), text: clean });
    }
  }
  into.kept = into.labels.length;
}

/** Cleans a list of label texts: blank lines and repeats (ignoring case and extra spaces) left out and counted. */
export function cleanLabelList(texts: readonly string[]): CleanLabelList {
  const result: CleanLabelList = { labels: [], kept: 0, blank: 0, duplicates: 0 };
  cleanLines(texts, 0, texts.length, result, new Set());
  return result;
}

/**
 * The same in steps of `linesPerStep` lines with `pause()` between them, so a pasted list of 10,000 labels does not
 * hold the page in one long task (~30 ms of regular expressions and lower-casing on a busy 2-core machine).
 */
export async function cleanLabelListInSteps(
  texts: readonly string[],
  pause: () => Promise<void>,
  linesPerStep = 2000,
): Promise<CleanLabelList> {
  const result: CleanLabelList = { labels: [], kept: 0, blank: 0, duplicates: 0 };
  const taken = new Set<string>();
  for (let from = 0; from < texts.length; from += linesPerStep) {
    if (from > 0) await pause();
    cleanLines(texts, from, Math.min(texts.length, from + linesPerStep), result, taken);
  }
  return result;
}

function cleanTemplates(templates: readonly string[]): string[] {
  const cleaned = templates.map((template) => template.trim()).filter((template) => template !== '');
  return cleaned.length > 0 ? cleaned : [...DEFAULT_TEMPLATES];
}

export const createLabelsSlice: StateCreator<LensState, [], [], LabelsSlice> = (set, get) => {
  /** The state before an edit, to go on the undo stack. */
  const undoEntry = (state: LensState, description: string) => ({
    labelUndo: [
      ...state.labelUndo.slice(-(UNDO_DEPTH - 1)),
      { labels: state.labels, templates: state.templates, description },
    ],
  });
  return {
    labels: [],
    templates: [...DEFAULT_TEMPLATES],
    labelEmbeddings: null,
    labelEmbeddingStatus: 'idle',
    labelEmbeddingError: null,
    labelEmbeddingProgress: null,
    promptSpeed: null,
    selectedLabelId: null,
    labelUndo: [],

    addLabel: (text) => {
      const clean = cleanLabelText(text);
      if (clean === '' || isTaken(get().labels, clean)) return false;
      set((state) => ({
        ...undoEntry(state, `add “${clean}”`),
        labels: [...state.labels, { id: newLabelId(), text: clean }],
      }));
      return true;
    },
    updateLabel: (id, text) => {
      const clean = cleanLabelText(text);
      if (clean === '' || isTaken(get().labels, clean, id)) return false;
      const before = get().labels.find((label) => label.id === id);
      if (!before || before.text === clean) return before !== undefined;
      set((state) => ({
        ...undoEntry(state, `rename “${before.text}”`),
        labels: state.labels.map((label) => (label.id === id ? { ...label, text: clean } : label)),
      }));
      return true;
    },
    removeLabel: (id) =>
      set((state) => {
        const label = state.labels.find((candidate) => candidate.id === id);
        if (!label) return {};
        return {
          ...undoEntry(state, `remove “${label.text}”`),
          labels: state.labels.filter((candidate) => candidate.id !== id),
          selectedLabelId: state.selectedLabelId === id ? null : state.selectedLabelId,
        };
      }),
    replaceLabelSet: (texts, templates, description) => {
      const { labels, ...counts } = cleanLabelList(texts);
      set((state) => ({
        ...undoEntry(state, description),
        labels,
        templates: cleanTemplates(templates),
        selectedLabelId: null,
      }));
      return counts;
    },
    undoLabelEdit: () => {
      const last = get().labelUndo.at(-1);
      if (!last) return false;
      set((state) => ({
        labels: last.labels,
        templates: last.templates,
        labelUndo: state.labelUndo.slice(0, -1),
        selectedLabelId: last.labels.some((label) => label.id === state.selectedLabelId)
          ? state.selectedLabelId
          : null,
      }));
      return true;
    },
    replaceLabels: (texts) => get().replaceWithCleanLabels(cleanLabelList(texts)),
    replaceWithCleanLabels: ({ labels, ...counts }) => {
      set((state) => ({ ...undoEntry(state, 'replace the labels'), labels, selectedLabelId: null }));
      return counts;
    },
    setTemplates: (templates) =>
      set((state) => ({ ...undoEntry(state, 'change the templates'), templates: cleanTemplates(templates) })),
    startLabelEmbedding: () =>
      set({ labelEmbeddingStatus: 'embedding', labelEmbeddingError: null, labelEmbeddingProgress: null }),
    setLabelEmbeddings: (embeddings) =>
      set({
        labelEmbeddings: embeddings,
        labelEmbeddingStatus: embeddings ? 'ready' : 'idle',
        labelEmbeddingError: null,
        labelEmbeddingProgress: null,
      }),
    setLabelEmbeddingError: (message) =>
      set({ labelEmbeddingStatus: 'error', labelEmbeddingError: message, labelEmbeddingProgress: null }),
    setLabelEmbeddingProgress: (done, total, now) =>
      set((state) => {
        const before = state.labelEmbeddingProgress;
        // A new total is a new request (the first event says done 0): the clock starts again.
        const isSameRun = before !== null && before.total === total && done >= before.done;
        return {
          labelEmbeddingProgress: {
            done,
            total,
            startedAt: isSameRun ? before.startedAt : now,
            updatedAt: now,
          },
        };
      }),
    setPromptSpeed: (speed) => set({ promptSpeed: speed }),
    cancelLabelEmbedding: () =>
      set((state) => {
        const shown = state.labelEmbeddings;
        if (!shown) {
          return {
            labelEmbeddingStatus: 'cancelled',
            labelEmbeddingProgress: null,
            labelEmbeddingError: null,
          };
        }
        // Why go back rather than keep the new labels unranked: Cancel means "I changed my mind", and the only
        // ranking that exists is the previous labels'. Putting them back makes the list and the cards agree again
        // (nothing is shown as if it were for labels that were never embedded); Undo brings the cancelled list back.
        const labels = shown.labelIds.map((id, i) => ({ id, text: shown.labelTexts[i] ?? '' }));
        return {
          ...undoEntry(state, 'cancel embedding'),
          labels,
          templates: shown.templates ? [...shown.templates] : state.templates,
          selectedLabelId: labels.some((label) => label.id === state.selectedLabelId)
            ? state.selectedLabelId
            : null,
          labelEmbeddingStatus: 'ready',
          labelEmbeddingProgress: null,
          labelEmbeddingError: null,
        };
      }),
    toggleSelectedLabel: (id) =>
      set((state) => ({ selectedLabelId: state.selectedLabelId === id ? null : id })),
  };
};
