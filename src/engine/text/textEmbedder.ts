/**
 * Label embeddings: each label is written into every template, the prompts are tokenized in batches padded only
 * to their longest prompt, run through the text tower and L2-normalised; a label's embedding is the mean of its
 * template embeddings, normalised again (CLIP's prompt ensemble). Prompts are sorted by token count before they
 * are batched, so a batch of short class names is not padded to the one long prompt among them (measured 7x less
 * text-tower time than padding every prompt to the context, see BENCHMARKS.md). Each (template, label) embedding is cached, so
 * editing one label or adding a template only computes the new prompts.
 */
import { BackendError, CancelledError } from '../../core/errors';
import { l2Normalize } from '../../core/ranking';
import { fillTemplate } from '../../core/templates';
import type { EncodedBatch, EncodedPrompt } from './tokenizer';

/** What the embedder needs of the tokenizer (ClipTokenizer in the app). */
export interface PromptTokenizer {
  encode(text: string): EncodedPrompt;
  /** Encoded prompts as one batch padded to the longest of them. */
  pack(prompts: readonly EncodedPrompt[]): EncodedBatch;
}

/** Runs the text tower on `[batch × seqLen]` ids and returns `[batch × dim]` raw embeddings. */
export type TextTowerRunner = (
  inputIds: BigInt64Array,
  batch: number,
  seqLen: number,
) => Promise<Float32Array>;

export interface TextEmbedderOptions {
  /** Prompts per text-tower run. */
  batchSize?: number;
  /** Upper bound on cached floats (oldest prompts are dropped first); 16 M floats = 64 MB. */
  maxCachedFloats?: number;
}

/** How far a label request is: prompts run through the text tower so far, of those it needs (cached ones excluded). */
export interface PromptProgress {
  done: number;
  total: number;
}

export interface EmbedLabelsRun {
  /** Called before the first batch (done 0) and after each batch of prompts. */
  onProgress?: (progress: PromptProgress) => void;
  /** Checked between batches: a cancelled request stops after the batch in flight (its prompts stay cached). */
  signal?: AbortSignal;
}

/**
 * What one call cost, for estimates: prompts run through the text tower after the first batch, and the time they
 * took. The first batch is left out because it may include opening the text tower (seconds on a big model).
 */
export interface TextTowerWork {
  promptsRun: number;
  towerMs: number;
}

interface CachedPrompt {
  embedding: Float32Array;
  truncated: boolean;
}

export class TextEmbedder {
  private readonly cache = new Map<string, CachedPrompt>();
  private readonly batchSize: number;
  private readonly maxCachedPrompts: number;

  /**
   * @param modelKey identifies the weights that produce the embeddings (model id and dtype); part of every cache key.
   */
  constructor(
    private readonly tokenizer: PromptTokenizer,
    private readonly runTextTower: TextTowerRunner,
    readonly dim: number,
    private readonly modelKey: string,
    options: TextEmbedderOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 32;
    this.maxCachedPrompts = Math.max(1, Math.floor((options.maxCachedFloats ?? 16_000_000) / dim));
  }

  /** Number of (template, label) embeddings held. */
  get cachedPromptCount(): number {
    return this.cache.size;
  }

  /**
   * `[labels × dim]`: each row the normalised mean of the label's normalised template embeddings; `truncated[i]`
   * is true when one of label i's prompts was longer than the context and cut.
   */
  async embedLabels(
    labels: readonly string[],
    templates: readonly string[],
    run: EmbedLabelsRun = {},
  ): Promise<{ embeddings: Float32Array; truncated: boolean[] } & TextTowerWork> {
    if (templates.length === 0) throw new RangeError('At least one template is needed to embed labels.');
    const work = await this.computeMissing(labels, templates, run);
    const embeddings = new Float32Array(labels.length * this.dim);
    const truncated = labels.map((label, row) => {
      const mean = new Float32Array(this.dim);
      let isTruncated = false;
      for (const template of templates) {
        const cached = this.cache.get(this.keyOf(template, label))!;
        for (let i = 0; i < this.dim; i++) mean[i] = mean[i]! + cached.embedding[i]!;
        isTruncated ||= cached.truncated;
      }
      embeddings.set(l2Normalize(mean), row * this.dim);
      return isTruncated;
    });
    return { embeddings, truncated, ...work };
  }

  private keyOf(template: string, label: string): string {
    return `${this.modelKey}\u0000${template}\u0000${label}`;
  }

  private async computeMissing(
    labels: readonly string[],
    templates: readonly string[],
    { onProgress, signal }: EmbedLabelsRun,
  ): Promise<TextTowerWork> {
    const missing = new Map<string, string>(); // cache key → prompt
    for (const label of labels) {
      for (const template of templates) {
        const key = this.keyOf(template, label);
        const cached = this.cache.get(key);
        if (cached) {
          // Refresh its place so the prompts in use are the last to be evicted.
          this.cache.delete(key);
          this.cache.set(key, cached);
        } else {
          missing.set(key, fillTemplate(template, label));
        }
      }
    }
    // Shortest first (a stable sort keeps the label order among equals), so each batch pads to little.
    const entries = [...missing]
      .map(([key, prompt]) => ({ key, encoded: this.tokenizer.encode(prompt) }))
      .sort((a, b) => a.encoded.ids.length - b.encoded.ids.length);
    const work: TextTowerWork = { promptsRun: 0, towerMs: 0 };
    onProgress?.({ done: 0, total: entries.length });
    for (let start = 0; start < entries.length; start += this.batchSize) {
      if (signal?.aborted) throw new CancelledError('Embedding the labels was cancelled.');
      const chunk = entries.slice(start, start + this.batchSize);
      const batch = this.tokenizer.pack(chunk.map(({ encoded }) => encoded));
      const started = performance.now();
      const raw = await this.runTextTower(batch.inputIds, batch.batch, batch.seqLen);
      if (start > 0) {
        work.promptsRun += chunk.length;
        work.towerMs += performance.now() - started;
      }
      if (raw.length !== chunk.length * this.dim) {
        throw new BackendError(
          `The text model returned ${raw.length} values for ${chunk.length} prompts of dimension ${this.dim}.`,
        );
      }
      chunk.forEach(({ key }, row) => {
        const embedding = l2Normalize(raw.subarray(row * this.dim, (row + 1) * this.dim));
        this.cache.set(key, { embedding, truncated: batch.truncated[row] ?? false });
      });
      onProgress?.({ done: start + chunk.length, total: entries.length });
    }
    this.evictOldest(labels.length * templates.length);
    return work;
  }

  /** Drops the least recently used prompts above the cap, never those of the current request. */
  private evictOldest(inUse: number): void {
    const limit = Math.max(this.maxCachedPrompts, inUse);
    for (const key of this.cache.keys()) {
      if (this.cache.size <= limit) break;
      this.cache.delete(key);
    }
  }
}
