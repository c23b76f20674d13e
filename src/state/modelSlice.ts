import type { StateCreator } from 'zustand';
import type {
  BackendChangedEvent,
  BackendPreference,
  LoadedModel,
  LoadProgressEvent,
} from '../core/protocol';
import type { LensState } from './store';

/** One status instead of several booleans: a model is never "loading" and "ready" at once. */
export type ModelStatus = 'idle' | 'loading' | 'ready' | 'error';

/** The latest progress report while a model loads. */
export type LoadProgress = Omit<LoadProgressEvent, 'type'>;

export interface ModelSlice {
  modelStatus: ModelStatus;
  loadProgress: LoadProgress | null;
  /** What the worker reported once loading finished (backend, dtype, threads, fallback notes…). */
  model: LoadedModel | null;
  /** The user's choice; 'auto' lets the engine pick WebGPU and fall back to WASM. Persisted. */
  backendPreference: BackendPreference;
  /** A sentence for the status bar when loading failed. */
  modelError: string | null;
  /** Backend switches the engine made after loading (e.g. WebGPU lost → WASM), as sentences. */
  backendChanges: string[];

  startModelLoad(): void;
  setLoadProgress(progress: LoadProgress): void;
  setModelReady(model: LoadedModel): void;
  setModelError(message: string): void;
  setBackendPreference(preference: BackendPreference): void;
  recordBackendChange(event: BackendChangedEvent): void;
  /** The text tower's probe cosine, known once labels first needed the tower (after the load). */
  setTextProbeCosine(cosine: number): void;
}

export const createModelSlice: StateCreator<LensState, [], [], ModelSlice> = (set) => ({
  modelStatus: 'idle',
  loadProgress: null,
  model: null,
  backendPreference: 'auto',
  modelError: null,
  backendChanges: [],

  startModelLoad: () =>
    set({ modelStatus: 'loading', loadProgress: null, model: null, modelError: null, backendChanges: [] }),
  setLoadProgress: (progress) => set({ loadProgress: progress }),
  setModelReady: (model) => set({ modelStatus: 'ready', model, loadProgress: null, modelError: null }),
  setModelError: (message) => set({ modelStatus: 'error', modelError: message, loadProgress: null }),
  setBackendPreference: (preference) => set({ backendPreference: preference }),
  setTextProbeCosine: (cosine) =>
    set((state) =>
      state.model
        ? { model: { ...state.model, probeCosine: { ...state.model.probeCosine, text: cosine } } }
        : {},
    ),
  recordBackendChange: (event) =>
    set((state) => ({
      model: state.model ? { ...state.model, backend: event.backend, dtype: event.dtype } : state.model,
      backendChanges: [...state.backendChanges, event.reason],
    })),
});
