import type { StateCreator } from 'zustand';
import {
  BUILT_IN_CATALOG,
  DEFAULT_HUB_BASE_URL,
  DEMO_MODEL_ID,
  defaultModelBaseUrl,
  type CatalogEntry,
} from './catalog';
import type { ModelTransferEvent, StorageReport } from '../core/protocol';
import type { HostingReport } from './hostedModels';
import type { LensState } from './store';

/** A download, import or hub build in progress or stopped, as the picker shows it. */
export interface TransferState {
  kind: 'download' | 'import' | 'build';
  status: 'running' | 'error' | 'cancelled';
  stage: ModelTransferEvent['stage'];
  /** The file (or, while building, the tensor) being worked on. */
  file: string | null;
  loaded: number;
  total: number;
  bytesPerSecond: number;
  secondsLeft: number | null;
  /** The message of a failed transfer, and its error class (StorageFullError reads differently). */
  error: string | null;
  errorName: string | null;
}

export interface ModelLibrarySlice {
  /** The model the person chose last (persisted); the demo until they choose another. */
  activeModelId: string;
  /** Where catalog models are downloaded from (persisted). */
  modelBaseUrl: string;
  /** The model hub official weights are built from (persisted). */
  hubBaseUrl: string;
  catalog: CatalogEntry[];
  storageReport: StorageReport | null;
  /** Keyed by model id; an import of an unknown model is keyed 'import'. */
  transfers: Record<string, TransferState>;
  /** Whether the browser agreed to keep stored models under storage pressure (null: not asked or unknown). */
  storagePersisted: boolean | null;
  /** Which catalog models the model server hosts, asked when Models opens (null: not asked yet). */
  hosting: HostingReport | null;
  /**
   * The person closed the note on what a closed-vocabulary model knows. Not persisted: it returns on the next visit,
   * and when the model in use changes (switching back to the demo shows it again).
   */
  isVocabularyNoteDismissed: boolean;

  setActiveModelId(id: string): void;
  setModelBaseUrl(url: string): void;
  setHubBaseUrl(url: string): void;
  setCatalog(catalog: CatalogEntry[]): void;
  setStorageReport(report: StorageReport): void;
  setTransfer(key: string, transfer: TransferState | null): void;
  setStoragePersisted(persisted: boolean | null): void;
  setHosting(report: HostingReport | null): void;
  dismissVocabularyNote(): void;
}

export const createModelLibrarySlice: StateCreator<LensState, [], [], ModelLibrarySlice> = (set) => ({
  activeModelId: DEMO_MODEL_ID,
  modelBaseUrl: defaultModelBaseUrl(),
  hubBaseUrl: DEFAULT_HUB_BASE_URL,
  catalog: [...BUILT_IN_CATALOG],
  storageReport: null,
  transfers: {},
  storagePersisted: null,
  hosting: null,
  isVocabularyNoteDismissed: false,

  setActiveModelId: (id) =>
    set((state) =>
      id === state.activeModelId ? {} : { activeModelId: id, isVocabularyNoteDismissed: false },
    ),
  setModelBaseUrl: (url) => set({ modelBaseUrl: url }),
  setHubBaseUrl: (url) => set({ hubBaseUrl: url }),
  setCatalog: (catalog) => set({ catalog }),
  setStorageReport: (report) => set({ storageReport: report }),
  setTransfer: (key, transfer) =>
    set((state) => {
      const transfers = { ...state.transfers };
      if (transfer) transfers[key] = transfer;
      else delete transfers[key];
      return { transfers };
    }),
  setStoragePersisted: (persisted) => set({ storagePersisted: persisted }),
  setHosting: (report) => set({ hosting: report }),
  dismissVocabularyNote: () => set({ isVocabularyNoteDismissed: true }),
});
