import type { StateCreator } from 'zustand';
import type { LensState } from './store';

/** A free-text query's embedding, kept with the text it was made from (typing may have moved on). */
export interface QueryEmbedding {
  query: string;
  vector: Float32Array;
}

export type SearchStatus = 'idle' | 'embedding' | 'ready' | 'error';

/** Images alike enough to count as near-duplicates: their ids, and how alike the least alike pair is. */
export interface NearDuplicateGroup {
  imageIds: string[];
  weakestLink: number;
}

/**
 * What the grid is ordered by besides a label: a text search (live, by the cosine of each image to the query)
 * or an image (by image-to-image cosine). At most one of the two is active; choosing one clears the other.
 */
export interface SearchSlice {
  searchQuery: string;
  queryEmbedding: QueryEmbedding | null;
  searchStatus: SearchStatus;
  searchError: string | null;
  /** Images below this cosine to the query are hidden; null shows every image. */
  searchThreshold: number | null;
  /** The image others are ranked against, or null. */
  similarToImageId: string | null;
  /** Near-duplicate finder: the cosine a pair needs to count as near-duplicates; null while it is closed. */
  duplicateThreshold: number | null;
  /** The groups found in the worker for the last threshold and images asked about; null until the first answer. */
  duplicateGroups: NearDuplicateGroup[] | null;
  /** True while the worker compares the images (the groups shown are the previous answer). */
  duplicatesPending: boolean;

  setSearchQuery(query: string): void;
  startQueryEmbedding(): void;
  setQueryEmbedding(embedding: QueryEmbedding | null): void;
  setSearchError(message: string): void;
  setSearchThreshold(threshold: number | null): void;
  /** Ranks by `imageId`; the same image again (or null) goes back to the grid's usual order. */
  toggleSimilarTo(imageId: string | null): void;
  setDuplicateThreshold(threshold: number | null): void;
  setDuplicateGroups(groups: NearDuplicateGroup[] | null, pending: boolean): void;
}

/** Where the near-duplicate finder starts: re-encoded or resized copies of one photo sit well above it. */
export const DEFAULT_DUPLICATE_THRESHOLD = 0.95;

export const createSearchSlice: StateCreator<LensState, [], [], SearchSlice> = (set) => ({
  searchQuery: '',
  queryEmbedding: null,
  searchStatus: 'idle',
  searchError: null,
  searchThreshold: null,
  similarToImageId: null,
  duplicateThreshold: null,
  duplicateGroups: null,
  duplicatesPending: false,

  setSearchQuery: (query) =>
    set((state) => {
      const cleared = query.trim() === '';
      return {
        searchQuery: query,
        similarToImageId: cleared ? state.similarToImageId : null,
        ...(cleared
          ? { queryEmbedding: null, searchStatus: 'idle', searchError: null, searchThreshold: null }
          : {}),
      };
    }),
  startQueryEmbedding: () => set({ searchStatus: 'embedding', searchError: null }),
  setQueryEmbedding: (embedding) =>
    set({ queryEmbedding: embedding, searchStatus: embedding ? 'ready' : 'idle', searchError: null }),
  setSearchError: (message) => set({ searchStatus: 'error', searchError: message }),
  setSearchThreshold: (threshold) => set({ searchThreshold: threshold }),
  setDuplicateThreshold: (threshold) =>
    set(
      threshold === null
        ? { duplicateThreshold: null, duplicateGroups: null }
        : { duplicateThreshold: threshold },
    ),
  setDuplicateGroups: (groups, pending) => set({ duplicateGroups: groups, duplicatesPending: pending }),
  toggleSimilarTo: (imageId) =>
    set((state) => {
      const next = imageId === null || state.similarToImageId === imageId ? null : imageId;
      return next === null
        ? { similarToImageId: null }
        : {
            similarToImageId: next,
            searchQuery: '',
            queryEmbedding: null,
            searchStatus: 'idle',
            searchError: null,
            searchThreshold: null,
          };
    }),
});
