import type { StateCreator } from 'zustand';
import type { LensState } from './store';

/** Which overlay is open: the image lightbox, or help. */
export interface ViewSlice {
  lightboxImageId: string | null;
  isHelpOpen: boolean;
  openLightbox(imageId: string | null): void;
  setHelpOpen(open: boolean): void;
}

export const createViewSlice: StateCreator<LensState, [], [], ViewSlice> = (set) => ({
  lightboxImageId: null,
  isHelpOpen: false,
  openLightbox: (imageId) => set({ lightboxImageId: imageId }),
  setHelpOpen: (open) => set({ isHelpOpen: open }),
});
