/** Runs `flush` soon, at most once per scheduled call. */
export type Scheduler = (flush: () => void) => void;

/**
 * Once per animation frame while the page is visible. Hidden tabs get no animation frames, so they fall back to
 * a timer and a long batch still finishes in the background.
 */
export const frameScheduler: Scheduler = (flush) => {
  if (typeof requestAnimationFrame === 'function' && globalThis.document?.visibilityState === 'visible') {
    requestAnimationFrame(() => flush());
  } else {
    setTimeout(flush, 100);
  }
};

export interface Batcher<T> {
  push(item: T): void;
  /** Applies everything pending now (e.g. before a run is declared finished). */
  flush(): void;
}

/**
 * Collects items and hands them to `apply` in one call per scheduled flush, so a worker that reports hundreds
 * of images a second causes one store update (and one grid render) per frame instead of one per image.
 */
export function createBatcher<T>(apply: (items: T[]) => void, getScheduler: () => Scheduler): Batcher<T> {
  let pending: T[] = [];
  let isScheduled = false;
  const flush = () => {
    isScheduled = false;
    if (pending.length === 0) return;
    const items = pending;
    pending = [];
    apply(items);
  };
  return {
    push(item) {
      pending.push(item);
      if (!isScheduled) {
        isScheduled = true;
        getScheduler()(flush);
      }
    },
    flush,
  };
}
