/**
 * Picks where this browser keeps models: OPFS where it has one (fast, in-place writes), else Cache Storage (older
 * Safari, some private modes), else memory (the model then lasts until the page closes; the UI says so by `kind`).
 */
import { CacheStorageModelStore } from './cacheModelStore';
import { MemoryModelStore } from './memoryModelStore';
import type { ModelStore } from './modelStore';
import { OpfsModelStore } from './opfsModelStore';

export async function openModelStore(): Promise<ModelStore> {
  if (await OpfsModelStore.isAvailable()) return new OpfsModelStore();
  if (await CacheStorageModelStore.isAvailable()) return new CacheStorageModelStore();
  return new MemoryModelStore();
}

/**
 * `open` called once, on first use, and shared by every caller (the engine and the model library must see the same
 * store). A failed open is not remembered, so the next call tries again.
 */
export function lazyModelStore(open: () => Promise<ModelStore> = openModelStore): () => Promise<ModelStore> {
  let opened: Promise<ModelStore> | null = null;
  return () => {
    opened ??= open().catch((error: unknown) => {
      opened = null;
      throw error;
    });
    return opened;
  };
}
