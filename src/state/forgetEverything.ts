/**
 * "Forget everything": empties what EVA Lens keeps on this device — stored and partly downloaded models, the
 * embedding cache (results, thumbnails, remembered labels, probe passes) and the saved labels and settings — so the
 * next start is a first visit. The service worker's copy of the app itself stays: it holds no personal data and keeps
 * the app working offline.
 */
import type { ForgetEverythingResult } from '../core/protocol';
import { getEngine } from './workerClient';
import { useLensStore } from './store';

/** Keys of this app in Web Storage (the store's own key and small flags like the isolation reload). */
const KEY_PREFIX = 'eva-lens';

function removeOwnKeys(storage: Storage | undefined): void {
  if (!storage) return;
  for (const key of Object.keys(storage)) if (key.startsWith(KEY_PREFIX)) storage.removeItem(key);
}

/**
 * Deletes everything, then stops the store from writing again (any state change before the page is reloaded would
 * otherwise save labels anew). The caller reloads the page.
 */
export async function forgetEverything(): Promise<ForgetEverythingResult> {
  const result = await getEngine().call('forgetEverything', {});
  useLensStore.persist.setOptions({
    storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
  });
  removeOwnKeys(globalThis.localStorage);
  removeOwnKeys(globalThis.sessionStorage);
  return result;
}
