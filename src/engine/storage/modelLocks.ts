/**
 * One writer per model across tabs: a download or import of model X holds the Web Lock `eva-lens-model:X`, so a
 * second tab doing the same fails at once with a clear message instead of tearing the first one's partial files.
 */
import { ModelBusyError } from '../../core/errors';

/** The part of `navigator.locks` used here (the browser's LockManager fits; tests pass a fake). */
export interface LockManagerLike {
  request<T>(
    name: string,
    options: { ifAvailable: boolean },
    callback: (lock: object | null) => T,
  ): Promise<T>;
}

/** `navigator.locks` where the browser has it (page and workers of secure contexts), else null: no cross-tab guard. */
export function browserLocks(): LockManagerLike | null {
  return globalThis.navigator?.locks ?? null;
}

/**
 * Runs `run` holding the model's lock, or fails with a ModelBusyError when another tab (or another request of this
 * one) holds it. Without a lock manager, `run` simply runs.
 */
export async function withModelLock<T>(
  locks: LockManagerLike | null,
  modelId: string,
  modelName: string,
  run: () => Promise<T>,
): Promise<T> {
  if (!locks) return run();
  return locks.request(`eva-lens-model:${modelId}`, { ifAvailable: true }, async (lock) => {
    if (!lock) {
      throw new ModelBusyError(
        `Another EVA Lens tab is downloading ${modelName} (or importing it). Wait until it finishes there, or ` +
          `cancel it there, then try again.`,
      );
    }
    return run();
  });
}
