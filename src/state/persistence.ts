import {
  createJSONStorage,
  type PersistOptions,
  type PersistStorage,
  type StateStorage,
  type StorageValue,
} from 'zustand/middleware';
import type { BackendPreference } from '../core/protocol';
import type { Label } from './labelsSlice';
import type { ClassificationMode } from './modeSlice';
import type { LensState } from './store';

/** The only state kept across visits: what the user typed and chose. Embeddings are recomputed. */
export interface PersistedLensState {
  labels: Label[];
  templates: string[];
  backendPreference: BackendPreference;
  /** The last model used, so the next visit starts with it (from model storage, no network). */
  activeModelId: string;
  modelBaseUrl: string;
  /** The model hub official weights are built from (a mirror may replace Hugging Face). */
  hubBaseUrl: string;
  classificationMode: ClassificationMode;
  allowNone: boolean;
  labelThresholds: Record<string, number>;
}

const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'webgpu', 'wasm'];

function memoryStorage(): StateStorage {
  const items = new Map<string, string>();
  return {
    getItem: (name) => items.get(name) ?? null,
    setItem: (name, value) => void items.set(name, value),
    removeItem: (name) => void items.delete(name),
  };
}

/** localStorage where it works; otherwise (Node tests, storage blocked by the browser) memory for this page. */
function pickStorage(): StateStorage {
  try {
    const storage = globalThis.localStorage;
    const probeKey = 'eva-lens:probe';
    storage.setItem(probeKey, '1');
    storage.removeItem(probeKey);
    return storage;
  } catch {
    return memoryStorage();
  }
}

function isLabel(value: unknown): value is Label {
  if (typeof value !== 'object' || value === null) return false;
  const { id, text } = value as Record<string, unknown>;
  return typeof id === 'string' && typeof text === 'string' && text.trim() !== '';
}

/** Takes the persisted fields that have the right shape and ignores the rest (an old or hand-edited entry). */
export function mergePersisted(persisted: unknown, current: LensState): LensState {
  if (typeof persisted !== 'object' || persisted === null) return current;
  const {
    labels,
    templates,
    backendPreference,
    activeModelId,
    modelBaseUrl,
    hubBaseUrl,
    classificationMode,
    allowNone,
    labelThresholds,
  } = persisted as Record<string, unknown>;
  const next = { ...current };
  if (Array.isArray(labels)) next.labels = labels.filter(isLabel);
  if (Array.isArray(templates)) {
    const valid = templates.filter(
      (template): template is string => typeof template === 'string' && template !== '',
    );
    if (valid.length > 0) next.templates = valid;
  }
  if (BACKEND_PREFERENCES.includes(backendPreference as BackendPreference)) {
    next.backendPreference = backendPreference as BackendPreference;
  }
  if (typeof activeModelId === 'string' && activeModelId !== '') next.activeModelId = activeModelId;
  if (typeof modelBaseUrl === 'string' && modelBaseUrl !== '') next.modelBaseUrl = modelBaseUrl;
  if (typeof hubBaseUrl === 'string' && hubBaseUrl !== '') next.hubBaseUrl = hubBaseUrl;
  if (classificationMode === 'single' || classificationMode === 'multi')
    next.classificationMode = classificationMode;
  if (typeof allowNone === 'boolean') next.allowNone = allowNone;
  if (typeof labelThresholds === 'object' && labelThresholds !== null) {
    next.labelThresholds = Object.fromEntries(
      Object.entries(labelThresholds).filter(
        (entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] >= 0 && entry[1] <= 1,
      ),
    );
  }
  return next;
}

/**
 * Writes only when a persisted field changed. zustand's persist writes on every set() of the store (image progress,
 * notices, label embedding progress…), and with 10,000 labels each write is a 400 kB JSON.stringify and
 * localStorage.setItem (~10 ms): the fields are compared by identity (the slices replace what they change), so
 * the unchanged case costs a few comparisons.
 */
export function writeOnlyChanges<S extends object>(storage: PersistStorage<S>): PersistStorage<S> {
  let lastWritten: StorageValue<S> | null = null;
  const isUnchanged = (value: StorageValue<S>) =>
    lastWritten !== null &&
    lastWritten.version === value.version &&
    Object.keys(value.state).length === Object.keys(lastWritten.state).length &&
    Object.entries(value.state).every(([key, field]) =>
      Object.is(field, (lastWritten!.state as Record<string, unknown>)[key]),
    );
  return {
    getItem: (name) => storage.getItem(name),
    setItem: (name, value) => {
      if (isUnchanged(value)) return;
      lastWritten = value;
      return storage.setItem(name, value);
    },
    removeItem: (name) => {
      lastWritten = null;
      return storage.removeItem(name);
    },
  };
}

export const persistOptions: PersistOptions<LensState, PersistedLensState> = {
  name: 'eva-lens',
  version: 1,
  storage: writeOnlyChanges(createJSONStorage<PersistedLensState>(pickStorage)!),
  partialize: (state) => ({
    labels: state.labels,
    templates: state.templates,
    backendPreference: state.backendPreference,
    activeModelId: state.activeModelId,
    modelBaseUrl: state.modelBaseUrl,
    hubBaseUrl: state.hubBaseUrl,
    classificationMode: state.classificationMode,
    allowNone: state.allowNone,
    labelThresholds: state.labelThresholds,
  }),
  merge: mergePersisted,
};
