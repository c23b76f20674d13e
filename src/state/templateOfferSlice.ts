import type { StateCreator } from 'zustand';
import type { LensState } from './store';

/** A preset's full template ensemble, offered after its first ranking came from a smaller set (issue #19). */
export interface FullTemplateOffer {
  presetName: string;
  templates: string[];
}

export interface TemplateOfferSlice {
  /** Not persisted: the offer belongs to the preset just chosen. */
  fullTemplateOffer: FullTemplateOffer | null;
  setFullTemplateOffer(offer: FullTemplateOffer | null): void;
}

export const createTemplateOfferSlice: StateCreator<LensState, [], [], TemplateOfferSlice> = (set) => ({
  fullTemplateOffer: null,
  setFullTemplateOffer: (offer) => set({ fullTemplateOffer: offer }),
});
