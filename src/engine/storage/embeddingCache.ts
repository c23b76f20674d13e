/**
 * Image embeddings kept across visits, keyed by the model's weights and the file's content (sha256), so reopening a
 * folder shows its results at once and ranking it against new labels needs only the text tower. Label embeddings
 * are kept too, keyed by the text tower's weights, the templates and the label: a returning visit ranks its first
 * photo without opening the text tower at all (the text session costs 0.4–0.8 s to create for B/16).
 *
 * The cache is an optimisation and never a source of failure: a cache that cannot be opened or written (private
 * mode, quota) is switched off for the page and the image is embedded as usual.
 */
import { sha256Hex } from '../library/manifestLoader';

/** What is kept per image: enough to show its card and rank it without decoding it again. */
export interface CachedImage {
  /** L2-normalised. */
  embedding: Float32Array;
  width: number;
  height: number;
  thumbnail: Blob | null;
}

/** A label's embedding: the normalised mean over the templates, and whether a prompt was cut to the context. */
export interface CachedLabel {
  embedding: Float32Array;
  truncated: boolean;
}

export interface EmbeddingCache {
  get(key: string): Promise<CachedImage | null>;
  put(key: string, value: CachedImage): Promise<void>;
  /** Label embeddings for `keys` (see labelCacheKey), null where there is none, in the same order. */
  getLabels(keys: readonly string[]): Promise<(CachedLabel | null)[]>;
  putLabels(entries: readonly (readonly [string, CachedLabel])[]): Promise<void>;
  /** The probe cosine a tower reached before under `key` (see probeRecordKey), or null. */
  getProbePass(key: string): Promise<number | null>;
  putProbePass(key: string, cosine: number): Promise<void>;
  /** Removes every entry, images, labels and probe passes; returns how many images there were. */
  clear(): Promise<number>;
  /** Images held. */
  count(): Promise<number>;
}

/**
 * The key of a label under a text tower (model id, dtype, start of the text graph's sha256) and a template set: the
 * label's embedding is the mean over exactly these templates.
 */
export function labelCacheKey(textModelKey: string, templates: readonly string[], label: string): string {
  return JSON.stringify([textModelKey, templates, label]);
}

/**
 * The key of an image under a model: the model id, its dtype and the sha256 of its image graph (a re-exported model
 * never reuses old embeddings), then the sha256 of the file's bytes (a renamed or moved file is still a hit).
 */
export function imageCacheKey(modelKey: string, contentSha256: string): string {
  return `${modelKey}|${contentSha256}`;
}

export async function fileSha256(file: Blob): Promise<string> {
  return sha256Hex(new Uint8Array(await file.arrayBuffer()));
}

/** For tests and for browsers without IndexedDB: a cache that lasts as long as the worker. */
export class MemoryEmbeddingCache implements EmbeddingCache {
  private readonly entries = new Map<string, CachedImage>();
  private readonly labels = new Map<string, CachedLabel>();
  private readonly probes = new Map<string, number>();

  async getProbePass(key: string): Promise<number | null> {
    return this.probes.get(key) ?? null;
  }

  async putProbePass(key: string, cosine: number): Promise<void> {
    this.probes.set(key, cosine);
  }

  constructor(private readonly maxEntries = 10_000) {}

  async getLabels(keys: readonly string[]): Promise<(CachedLabel | null)[]> {
    return keys.map((key) => this.labels.get(key) ?? null);
  }

  async putLabels(entries: readonly (readonly [string, CachedLabel])[]): Promise<void> {
    for (const [key, value] of entries) this.labels.set(key, value);
  }

  async get(key: string): Promise<CachedImage | null> {
    return this.entries.get(key) ?? null;
  }

  async put(key: string, value: CachedImage): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, value);
    // Maps iterate in insertion order: the first keys are the oldest.
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  async clear(): Promise<number> {
    const count = this.entries.size;
    this.entries.clear();
    this.labels.clear();
    this.probes.clear();
    return count;
  }

  async count(): Promise<number> {
    return this.entries.size;
  }
}

/**
 * Wraps a cache so that its first failure turns it off instead of failing an image: from then on every lookup
 * misses and every write is skipped, and `disabledReason` says why (for the status line).
 */
export class FailSafeEmbeddingCache implements EmbeddingCache {
  disabledReason: string | null = null;

  constructor(private readonly inner: EmbeddingCache) {}

  get(key: string): Promise<CachedImage | null> {
    return this.guard(() => this.inner.get(key), null);
  }

  put(key: string, value: CachedImage): Promise<void> {
    return this.guard(() => this.inner.put(key, value), undefined);
  }

  getLabels(keys: readonly string[]): Promise<(CachedLabel | null)[]> {
    return this.guard(
      () => this.inner.getLabels(keys),
      keys.map(() => null),
    );
  }

  putLabels(entries: readonly (readonly [string, CachedLabel])[]): Promise<void> {
    return this.guard(() => this.inner.putLabels(entries), undefined);
  }

  getProbePass(key: string): Promise<number | null> {
    return this.guard(() => this.inner.getProbePass(key), null);
  }

  putProbePass(key: string, cosine: number): Promise<void> {
    return this.guard(() => this.inner.putProbePass(key, cosine), undefined);
  }

  clear(): Promise<number> {
    return this.guard(() => this.inner.clear(), 0);
  }

  count(): Promise<number> {
    return this.guard(() => this.inner.count(), 0);
  }

  private async guard<T>(run: () => Promise<T>, fallback: T): Promise<T> {
    if (this.disabledReason !== null) return fallback;
    try {
      return await run();
    } catch (error) {
      this.disabledReason = error instanceof Error ? error.message || error.name : String(error);
      return fallback;
    }
  }
}
