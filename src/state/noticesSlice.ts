import type { StateCreator } from 'zustand';
import type { LensState } from './store';

/** A short message for the person using the app, e.g. "Skipped 2 files that are not images." */
export interface Notice {
  id: number;
  text: string;
  tone: 'info' | 'error';
}

export interface NoticesSlice {
  notices: Notice[];
  pushNotice(text: string, tone?: Notice['tone']): void;
  dismissNotice(id: number): void;
}

/** Older notices are dropped beyond this many, so a flood of errors cannot cover the page. */
const MAX_NOTICES = 4;
let noticeCounter = 0;

export const createNoticesSlice: StateCreator<LensState, [], [], NoticesSlice> = (set) => ({
  notices: [],
  pushNotice: (text, tone = 'info') => {
    noticeCounter += 1;
    const notice = { id: noticeCounter, text, tone };
    set((state) => ({ notices: [...state.notices, notice].slice(-MAX_NOTICES) }));
  },
  dismissNotice: (id) => set((state) => ({ notices: state.notices.filter((notice) => notice.id !== id) })),
});
