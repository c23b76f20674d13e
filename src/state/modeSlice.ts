import type { StateCreator } from 'zustand';
import type { LensState } from './store';

/** single: exactly one label fits (softmax); multi: each label on its own against its threshold. */
export type ClassificationMode = 'single' | 'multi';

/** A multi-label probability at or above this applies the label, unless the label has its own threshold. */
export const DEFAULT_LABEL_THRESHOLD = 0.5;

export interface ModeSlice {
  /** Persisted. */
  classificationMode: ClassificationMode;
  /** Single-label mode may answer "none of these". Persisted. */
  allowNone: boolean;
  /** Multi-label thresholds by label id, where one differs from the default. Persisted. */
  labelThresholds: Record<string, number>;

  setClassificationMode(mode: ClassificationMode): void;
  setAllowNone(allow: boolean): void;
  setLabelThreshold(labelId: string, threshold: number): void;
}

export const createModeSlice: StateCreator<LensState, [], [], ModeSlice> = (set) => ({
  classificationMode: 'single',
  allowNone: false,
  labelThresholds: {},
  setClassificationMode: (mode) => set({ classificationMode: mode }),
  setAllowNone: (allow) => set({ allowNone: allow }),
  setLabelThreshold: (labelId, threshold) =>
    set((state) => {
      const next = { ...state.labelThresholds };
      if (threshold === DEFAULT_LABEL_THRESHOLD) delete next[labelId];
      else next[labelId] = Math.min(1, Math.max(0, threshold));
      return { labelThresholds: next };
    }),
});
