import { createJSONStorage, type PersistOptions, type StateStorage } from 'zustand/middleware';
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

export const persistOptions: PersistOptions<LensState, PersistedLensState> = {
  name: 'eva-lens',
  version: 1,
  storage: createJSONStorage(pickStorage),
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
