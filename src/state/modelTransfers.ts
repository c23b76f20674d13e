/**
 * Actions of the model picker: read the catalog and what storage holds, download (resume) and cancel, import a
 * converted folder, delete, and switch the model in use. Transfers run in the worker; their progress reaches the
 * store through here, at most once per frame.
 */
import { describeError } from '../core/errors';
import type { Dtype } from '../core/manifest';
import type { ModelSource, ModelTransferEvent, StoredModelInfo } from '../core/protocol';
import {
  BUILT_IN_CATALOG,
  DEMO_MODEL_ID,
  type HubBuildEntry,
  manifestUrlFor,
  mergeCatalogs,
  parseServerCatalog,
} from './catalog';
import { bridgeConfig, getEngine } from './workerClient';
import { probeHostedModels } from './hostedModels';
import { createBatcher } from './frameBatcher';
import type { TransferState } from './storageSlice';
import { useLensStore } from './store';

/** Key of the transfer state of an import whose model id is not known yet. */
export const IMPORT_KEY = 'import';

const running = new Map<string, { cancel(): void }>();

function pageUrl(): string {
  return globalThis.location?.href ?? 'http://localhost/';
}

/** Where the model in use is read from: embedded models from the app's own folder, others from storage. */
export function sourceFor(modelId: string): ModelSource {
  const entry = BUILT_IN_CATALOG.find((e) => e.id === modelId && e.embedded);
  if (entry) {
    return {
      kind: 'url',
      // BASE_URL is an absolute path (or URL), so the worker resolves it to the same place as the page.
      manifestUrl: `${bridgeConfig.baseUrl}models/${entry.id}/manifest.json`,
    };
  }
  return { kind: 'stored', modelId };
}

export async function refreshStorage(): Promise<void> {
  try {
    useLensStore.getState().setStorageReport(await getEngine().call('listStoredModels', {}));
  } catch (error) {
    useLensStore.getState().pushNotice(`Model storage could not be read: ${describeError(error)}`, 'error');
  }
}

function isOnline(): boolean {
  return globalThis.navigator?.onLine !== false;
}

/**
 * Reads `<server>catalog.json` when the server has one (the built-in list is shown either way), then asks the
 * server which catalog models it really hosts. Offline nothing is requested: a request the browser cannot send is
 * logged as a console error, and the answer is known already.
 */
export async function refreshCatalog(): Promise<void> {
  const { modelBaseUrl } = useLensStore.getState();
  let fromServer: ReturnType<typeof parseServerCatalog> = [];
  if (isOnline()) {
    try {
      const response = await bridgeConfig.fetch(
        new URL('catalog.json', new URL(modelBaseUrl, pageUrl())).href,
      );
      const type = response.headers.get('content-type') ?? '';
      // A missing catalog is normal (404, or a single-page-app fallback answering with HTML).
      if (response.ok && !type.includes('html')) fromServer = parseServerCatalog(await response.json());
    } catch {
      // No server, or it went away: the built-in catalog still lists what is stored.
    }
  }
  const catalog = mergeCatalogs(BUILT_IN_CATALOG, fromServer);
  useLensStore.getState().setCatalog(catalog);
  await refreshHosting(
    catalog.filter((entry) => !entry.embedded).map((entry) => entry.id),
    modelBaseUrl,
  );
}

async function refreshHosting(ids: string[], baseUrl: string): Promise<void> {
  const report = await probeHostedModels(ids, baseUrl, pageUrl(), bridgeConfig.fetch, isOnline());
  // A server changed while asking makes this answer stale; the newer refresh records its own.
  if (useLensStore.getState().modelBaseUrl === baseUrl) useLensStore.getState().setHosting(report);
}

export async function setModelServer(url: string): Promise<boolean> {
  const trimmed = url.trim();
  try {
    new URL(trimmed, pageUrl());
  } catch {
    useLensStore.getState().pushNotice(`"${trimmed}" is not a web address.`, 'error');
    return false;
  }
  useLensStore.getState().setModelBaseUrl(trimmed.endsWith('/') ? trimmed : `${trimmed}/`);
  await refreshCatalog();
  return true;
}

/** Asks the browser to keep stored models under storage pressure (only the page can ask; the answer is shown). */
async function askForPersistentStorage(): Promise<void> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.persist) return;
  try {
    useLensStore.getState().setStoragePersisted(await storage.persist());
  } catch {
    useLensStore.getState().setStoragePersisted(null);
  }
}

function transferFromEvent(kind: TransferState['kind'], event: ModelTransferEvent): TransferState {
  return {
    kind,
    status: 'running',
    stage: event.stage,
    file: event.file,
    loaded: event.loaded,
    total: event.total,
    bytesPerSecond: event.bytesPerSecond,
    secondsLeft: event.secondsLeft,
    error: null,
    errorName: null,
  };
}

function failedTransfer(previous: TransferState | undefined, kind: TransferState['kind'], error: unknown) {
  const name = error instanceof Error ? error.name : 'Error';
  return {
    kind,
    stage: previous?.stage ?? 'manifest',
    file: previous?.file ?? null,
    loaded: previous?.loaded ?? 0,
    total: previous?.total ?? 0,
    bytesPerSecond: 0,
    secondsLeft: null,
    status: name === 'CancelledError' ? 'cancelled' : 'error',
    error: name === 'CancelledError' ? null : describeError(error),
    errorName: name,
  } satisfies TransferState;
}

type StartTransfer = (onProgress: (event: ModelTransferEvent) => void) => {
  done: Promise<StoredModelInfo>;
  cancel(): void;
};

/**
 * Runs a download or import under `key`: its progress reaches the store once per frame, its end (stored, cancelled
 * or failed with a message) is recorded, and storage is listed again either way.
 */
async function runTransfer(
  key: string,
  kind: TransferState['kind'],
  start: StartTransfer,
): Promise<StoredModelInfo | null> {
  if (running.has(key)) return null;
  const setTransfer = (transfer: TransferState | null) => useLensStore.getState().setTransfer(key, transfer);
  const progress = createBatcher<ModelTransferEvent>(
    (events) => setTransfer(transferFromEvent(kind, events.at(-1)!)),
    () => bridgeConfig.schedule,
  );
  setTransfer({ ...failedTransfer(undefined, kind, null), status: 'running', error: null, errorName: null });
  const request = start((event) => progress.push(event));
  running.set(key, request);
  let outcome: TransferState | null = null;
  try {
    const stored = await request.done;
    progress.flush();
    return stored;
  } catch (error) {
    progress.flush();
    outcome = failedTransfer(useLensStore.getState().transfers[key], kind, error);
    return null;
  } finally {
    running.delete(key);
    // Storage is listed again before the outcome shows, so what the row then says about kept bytes (and whether it
    // offers Resume) describes what storage holds now, not what it held before this attempt.
    await refreshStorage();
    setTransfer(outcome);
  }
}

/** Downloads (or resumes) a catalog model's `dtype` variant into storage. */
export async function downloadCatalogModel(modelId: string, dtype: Dtype): Promise<StoredModelInfo | null> {
  if (running.has(modelId)) return null;
  const manifestUrl = manifestUrlFor({ id: modelId }, useLensStore.getState().modelBaseUrl, pageUrl());
  await askForPersistentStorage();
  return runTransfer(modelId, 'download', (onProgress) =>
    getEngine().start('downloadModel', { manifestUrl, dtypes: [dtype] }, onProgress),
  );
}

/**
 * Downloads the official checkpoint of `entry` from the hub and builds its int8 (WASM) and 4-bit (WebGPU) variants
 * in the worker. The model in use keeps working meanwhile, and stays in use if the build fails. Both dtypes are
 * built whatever the backend: loading picks the one that fits it (int8 on WASM, q4 on WebGPU), and for a checkpoint
 * the recipe has no record of, their agreement with each other is the build's check.
 *
 * With `switchTo` (the one-click "Get" action), the built model is put in use at once, which embeds the labels and
 * the images on the page again with it.
 */
export async function buildFromOfficialWeights(
  entry: HubBuildEntry,
  switchTo?: (id: string) => Promise<boolean>,
): Promise<StoredModelInfo | null> {
  if (running.has(entry.id)) return null;
  const recipeUrl = new URL(`${bridgeConfig.baseUrl}${entry.recipePath}`, pageUrl()).href;
  const { hubBaseUrl } = useLensStore.getState();
  await askForPersistentStorage();
  const stored = await runTransfer(entry.id, 'build', (onProgress) =>
    getEngine().start('buildModelFromHub', { recipeUrl, hubBaseUrl, dtypes: ['int8', 'q4'] }, onProgress),
  );
  if (stored && switchTo) {
    if (await switchTo(stored.id)) {
      useLensStore
        .getState()
        .pushNotice(
          `${stored.name} was built in this browser, passed its probe check and is now in use; the images on the page are classified again with it.`,
        );
    }
  } else if (stored) {
    useLensStore
      .getState()
      .pushNotice(
        `${stored.name} was built in this browser and passed its probe check. Choose Use to switch to it.`,
      );
  }
  return stored;
}

/** Sets the hub official weights come from; false (with a notice) for something that is not a web address. */
export function setHubServer(url: string): boolean {
  const trimmed = url.trim().replace(/\/+$/, '');
  try {
    const parsed = new URL(trimmed);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('not http');
  } catch {
    useLensStore.getState().pushNotice(`"${url.trim()}" is not a web address.`, 'error');
    return false;
  }
  useLensStore.getState().setHubBaseUrl(trimmed);
  return true;
}

export function cancelTransfer(key: string): void {
  running.get(key)?.cancel();
}

/** Checks a dropped or picked folder made by `npm run models -- convert` against its manifest and stores it. */
export async function importModelFolder(
  files: { path: string; file: Blob }[],
): Promise<StoredModelInfo | null> {
  const stored = await runTransfer(IMPORT_KEY, 'import', (onProgress) =>
    getEngine().start('importModel', { files }, onProgress),
  );
  if (stored)
    useLensStore.getState().pushNotice(`${stored.name} was imported and checked against its manifest.`);
  return stored;
}

export function dismissTransfer(key: string): void {
  useLensStore.getState().setTransfer(key, null);
}

/**
 * Removes a stored model. The model in use keeps running until the page closes (its sessions hold their bytes),
 * but the next visit would not find it, so the app switches to the demo model now.
 */
export async function deleteStoredModel(
  modelId: string,
  switchTo: (id: string) => Promise<boolean>,
): Promise<void> {
  try {
    await getEngine().call('deleteStoredModel', { modelId });
    useLensStore.getState().setTransfer(modelId, null);
  } catch (error) {
    useLensStore.getState().pushNotice(`The model could not be deleted: ${describeError(error)}`, 'error');
  }
  await refreshStorage();
  if (useLensStore.getState().activeModelId === modelId) await switchTo(DEMO_MODEL_ID);
}

/** Forgets running transfers (tests). */
export function resetModelLibrary(): void {
  running.clear();
}
