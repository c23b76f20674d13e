import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { createImagesSlice, type ImagesSlice } from './imagesSlice';
import { createLabelsSlice, type LabelsSlice } from './labelsSlice';
import { createModelLibrarySlice, type ModelLibrarySlice } from './storageSlice';
import { createModeSlice, type ModeSlice } from './modeSlice';
import { createModelSlice, type ModelSlice } from './modelSlice';
import { createNoticesSlice, type NoticesSlice } from './noticesSlice';
import { persistOptions } from './persistence';
import { createSearchSlice, type SearchSlice } from './searchSlice';
import { createTemplateOfferSlice, type TemplateOfferSlice } from './templateOfferSlice';
import { createViewSlice, type ViewSlice } from './viewSlice';

export type LensState = ModelSlice &
  ModelLibrarySlice &
  LabelsSlice &
  ImagesSlice &
  NoticesSlice &
  SearchSlice &
  ModeSlice &
  ViewSlice &
  TemplateOfferSlice;

/** The app's one store. Components read it with one selector per field; engineBridge.ts writes worker results. */
export const useLensStore = create<LensState>()(
  persist(
    (...args) => ({
      ...createModelSlice(...args),
      ...createModelLibrarySlice(...args),
      ...createLabelsSlice(...args),
      ...createImagesSlice(...args),
      ...createNoticesSlice(...args),
      ...createSearchSlice(...args),
      ...createModeSlice(...args),
      ...createViewSlice(...args),
      ...createTemplateOfferSlice(...args),
    }),
    persistOptions,
  ),
);
