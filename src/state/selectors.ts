/**
 * Values derived from the store: scores are computed from the embeddings on demand and memoised, never stored,
 * so they can never disagree with the embeddings they come from. Every selector returns the same reference for
 * the same inputs, as `useLensStore(selector)` requires.
 */
import { cosineScores, softmaxWithScale, topK } from '../core/ranking';
import { independentProbabilities, labelCentroid, softmaxWithNone } from '../core/labelDecisions';
import { dot } from '../core/similarity';
import { CANCELLED_MESSAGE, type ImageEntry } from './imagesSlice';
import type { LabelEmbeddings } from './labelsSlice';
import { DEFAULT_LABEL_THRESHOLD, type ClassificationMode } from './modeSlice';
import type { LensState } from './store';

/** Memoises a function of a few values by identity (the last call only, which is what render loops need). */
function memoLast<Args extends unknown[], Result>(
  compute: (...args: Args) => Result,
): (...args: Args) => Result {
  let lastArgs: Args | null = null;
  let lastResult: Result;
  return (...args: Args) => {
    if (lastArgs && args.length === lastArgs.length && args.every((arg, i) => Object.is(arg, lastArgs![i]))) {
      return lastResult;
    }
    lastResult = compute(...args);
    lastArgs = args;
    return lastResult;
  };
}

export interface LabelScore {
  labelId: string;
  label: string;
  /** softmax(logitScale × cosine) over the current labels. */
  probability: number;
  /** Raw cosine similarity between the image and the label's text embedding. */
  cosine: number;
}

export interface ImageScores {
  cosines: Float32Array;
  /** Per label: single-label, the softmax share; multi-label, the label's own probability (see labelDecisions.ts). */
  probabilities: Float32Array;
  /** Single-label with "none of these" allowed: that outcome's share; otherwise 0 (multi-label: none applies). */
  none: number;
}

/** How scores are turned into probabilities: the model's logit scale and the person's choice of mode. */
export interface ScoringRule {
  logitScale: number;
  mode: ClassificationMode;
  allowNone: boolean;
}

const EMPTY_SCORES: LabelScore[] = [];

interface CachedScores {
  labels: LabelEmbeddings;
  rule: ScoringRule;
  scores: ImageScores;
  topByK: Map<number, LabelScore[]>;
}

/** Keyed by the image embedding, so entries vanish with the images they belong to. */
const scoreCache = new WeakMap<Float32Array, CachedScores>();
/** The anchor of each label set (labelDecisions.ts), computed once per set. */
const centroids = new WeakMap<LabelEmbeddings, Float32Array>();

function centroidOf(labels: LabelEmbeddings): Float32Array {
  const known = centroids.get(labels);
  if (known) return known;
  const centroid = labelCentroid(labels.embeddings, labels.dim);
  centroids.set(labels, centroid);
  return centroid;
}

function computeScores(embedding: Float32Array, labels: LabelEmbeddings, rule: ScoringRule): ImageScores {
  const cosines = cosineScores(embedding, labels.embeddings, labels.dim);
  if (rule.mode === 'single' && !rule.allowNone) {
    return { cosines, probabilities: softmaxWithScale(cosines, rule.logitScale), none: 0 };
  }
  const anchor = rule.allowNone ? dot(embedding, centroidOf(labels)) : null;
  if (rule.mode === 'multi') {
    return { cosines, probabilities: independentProbabilities(cosines, rule.logitScale, anchor), none: 0 };
  }
  return { cosines, ...softmaxWithNone(cosines, anchor!, rule.logitScale) };
}

function cachedScores(
  embedding: Float32Array,
  labels: LabelEmbeddings,
  rule: ScoringRule,
): CachedScores | null {
  if (labels.labelIds.length === 0 || embedding.length !== labels.dim) return null;
  const cached = scoreCache.get(embedding);
  if (cached && cached.labels === labels && cached.rule === rule) return cached;
  const fresh: CachedScores = {
    labels,
    rule,
    scores: computeScores(embedding, labels, rule),
    topByK: new Map(),
  };
  scoreCache.set(embedding, fresh);
  return fresh;
}

/** Cosines and probabilities of one image against every embedded label, or null if they do not fit together. */
export function scoreImage(
  embedding: Float32Array,
  labels: LabelEmbeddings,
  rule: ScoringRule,
): ImageScores | null {
  return cachedScores(embedding, labels, rule)?.scores ?? null;
}

/** The model's logit scale (exp of the learned temperature), or null before a model is loaded. */
export function selectLogitScale(state: LensState): number | null {
  return state.model?.manifest.logitScale ?? null;
}

const scoringRule = memoLast(
  (logitScale: number | null, mode: ClassificationMode, allowNone: boolean): ScoringRule | null =>
    logitScale === null ? null : { logitScale, mode, allowNone },
);

/** The same object while the scale and mode stay, so score caches keyed by it stay valid. */
export function selectScoringRule(state: LensState): ScoringRule | null {
  return scoringRule(selectLogitScale(state), state.classificationMode, state.allowNone);
}

/** The `k` most probable labels of one image, best first; empty until both it and the labels are embedded. */
export function selectTopLabels(state: LensState, imageId: string, k = 3): LabelScore[] {
  const embedding = state.images[imageId]?.embedding;
  const labels = state.labelEmbeddings;
  const rule = selectScoringRule(state);
  if (!embedding || !labels || rule === null) return EMPTY_SCORES;
  const cached = cachedScores(embedding, labels, rule);
  if (!cached) return EMPTY_SCORES;
  let top = cached.topByK.get(k);
  if (!top) {
    top = topK(cached.scores.probabilities, k).map(({ index }) => ({
      labelId: labels.labelIds[index] ?? '',
      label: labels.labelTexts[index] ?? '',
      probability: cached.scores.probabilities[index] ?? 0,
      cosine: cached.scores.cosines[index] ?? 0,
    }));
    cached.topByK.set(k, top);
  }
  return top;
}

/** Every label's score for one image, most probable first (the lightbox and the export); cached like the top k. */
export function selectAllLabelScores(state: LensState, imageId: string): LabelScore[] {
  return selectTopLabels(state, imageId, Number.POSITIVE_INFINITY);
}

const rankImages = memoLast(
  (
    imageIds: string[],
    images: Record<string, ImageEntry>,
    labels: LabelEmbeddings | null,
    selectedLabelId: string | null,
    rule: ScoringRule | null,
  ): string[] => {
    const labelIndex = selectedLabelId && labels ? labels.labelIds.indexOf(selectedLabelId) : -1;
    if (!labels || labelIndex < 0 || rule === null) return imageIds;
    const ranked: { id: string; probability: number }[] = [];
    const unscored: string[] = [];
    for (const id of imageIds) {
      const embedding = images[id]?.embedding;
      const scores = embedding ? scoreImage(embedding, labels, rule) : null;
      if (scores) ranked.push({ id, probability: scores.probabilities[labelIndex] ?? 0 });
      else unscored.push(id);
    }
    // Array.prototype.sort is stable, so equal probabilities keep the order the images were added in.
    ranked.sort((a, b) => b.probability - a.probability);
    return [...ranked.map((entry) => entry.id), ...unscored];
  },
);

/**
 * Images by descending cosine to `reference` (a query's text embedding or another image's embedding); images not
 * embedded yet come last. With a threshold, embedded images below it are left out.
 */
const rankByReference = memoLast(
  (
    imageIds: string[],
    images: Record<string, ImageEntry>,
    reference: Float32Array,
    threshold: number | null,
  ): string[] => {
    const ranked: { id: string; cosine: number }[] = [];
    const unscored: string[] = [];
    for (const id of imageIds) {
      const embedding = images[id]?.embedding;
      if (!embedding || embedding.length !== reference.length) {
        unscored.push(id);
        continue;
      }
      const cosine = dot(embedding, reference);
      if (threshold === null || cosine >= threshold) ranked.push({ id, cosine });
    }
    ranked.sort((a, b) => b.cosine - a.cosine);
    return [...ranked.map((entry) => entry.id), ...unscored];
  },
);

/** The image the grid is ranked against, when one is chosen and embedded. */
function similarReference(state: LensState): Float32Array | null {
  return state.similarToImageId ? (state.images[state.similarToImageId]?.embedding ?? null) : null;
}

/** The query's embedding while the search box holds the text it was made from (typing may have moved on). */
function queryReference(state: LensState): Float32Array | null {
  const query = state.queryEmbedding;
  return query && state.searchQuery.trim() !== '' ? query.vector : null;
}

/**
 * Image ids in display order: by similarity to the chosen image; else by cosine to the search query (below the
 * threshold left out); else by descending probability of the selected label; else in the order they were added.
 * Images not yet embedded come last.
 */
export function selectRankedImageIds(state: LensState): string[] {
  const similar = similarReference(state);
  if (similar) return rankByReference(state.imageIds, state.images, similar, null);
  const query = queryReference(state);
  if (query) return rankByReference(state.imageIds, state.images, query, state.searchThreshold);
  return rankImages(
    state.imageIds,
    state.images,
    state.labelEmbeddings,
    state.selectedLabelId,
    selectScoringRule(state),
  );
}

/** What a card's corner shows when the grid is ranked by similarity or by a search: that cosine. */
export function selectReferenceCosine(state: LensState, imageId: string): number | null {
  const reference = similarReference(state) ?? queryReference(state);
  const embedding = state.images[imageId]?.embedding;
  if (!reference || !embedding || embedding.length !== reference.length) return null;
  return dot(embedding, reference);
}

const cosineRange = memoLast(
  (imageIds: string[], images: Record<string, ImageEntry>, query: Float32Array | null) => {
    if (!query) return null;
    let low = Infinity;
    let high = -Infinity;
    for (const id of imageIds) {
      const embedding = images[id]?.embedding;
      if (!embedding || embedding.length !== query.length) continue;
      const cosine = dot(embedding, query);
      low = Math.min(low, cosine);
      high = Math.max(high, cosine);
    }
    return low <= high ? { low, high } : null;
  },
);

/** Lowest and highest cosine of the loaded images to the query (the threshold slider's ends), or null. */
export function selectQueryCosineRange(state: LensState): { low: number; high: number } | null {
  return cosineRange(state.imageIds, state.images, queryReference(state));
}

/** What an image's scores decide: the labels that apply, or none of them. */
export type Outcome = { kind: 'labels'; labelIds: string[] } | { kind: 'none' };

const NONE: Outcome = { kind: 'none' };

function decide(
  scores: ImageScores,
  labels: LabelEmbeddings,
  rule: ScoringRule,
  thresholds: Record<string, number>,
): Outcome {
  const { probabilities } = scores;
  if (rule.mode === 'multi') {
    const applied = topK(probabilities, probabilities.length)
      .filter(
        ({ index }) =>
          probabilities[index]! >= (thresholds[labels.labelIds[index]!] ?? DEFAULT_LABEL_THRESHOLD),
      )
      .map(({ index }) => labels.labelIds[index]!);
    return applied.length > 0 ? { kind: 'labels', labelIds: applied } : NONE;
  }
  const best = topK(probabilities, 1)[0];
  if (!best || scores.none > best.score) return NONE;
  return { kind: 'labels', labelIds: [labels.labelIds[best.index]!] };
}

/** The outcome for one image under the current mode, or null before it and the labels are embedded. */
export function selectOutcome(state: LensState, imageId: string): Outcome | null {
  const embedding = state.images[imageId]?.embedding;
  const labels = state.labelEmbeddings;
  const rule = selectScoringRule(state);
  const scores = embedding && labels && rule ? scoreImage(embedding, labels, rule) : null;
  return scores && labels && rule ? decide(scores, labels, rule, state.labelThresholds) : null;
}

const countOutcomes = memoLast(
  (
    imageIds: string[],
    images: Record<string, ImageEntry>,
    labels: LabelEmbeddings | null,
    rule: ScoringRule | null,
    thresholds: Record<string, number>,
  ): Record<string, number> => {
    const counts: Record<string, number> = {};
    if (!labels || rule === null) return counts;
    for (const id of imageIds) {
      const embedding = images[id]?.embedding;
      const scores = embedding ? scoreImage(embedding, labels, rule) : null;
      const outcome = scores ? decide(scores, labels, rule, thresholds) : null;
      if (outcome?.kind === 'labels')
        for (const labelId of outcome.labelIds) counts[labelId] = (counts[labelId] ?? 0) + 1;
    }
    return counts;
  },
);

/** For each label id: how many images it applies to (single-label: their most probable label). */
export function selectTopLabelCounts(state: LensState): Record<string, number> {
  return countOutcomes(
    state.imageIds,
    state.images,
    state.labelEmbeddings,
    selectScoringRule(state),
    state.labelThresholds,
  );
}

/** Mean worker time per embedded image in the current or last run, or null before any image. */
export function selectMeanImageMs(state: LensState): number | null {
  return state.run.embedded > 0 ? state.run.workerMs / state.run.embedded : null;
}

/** Per label id: whether one of its prompts was cut to the text context. */
export function selectTruncatedLabelIds(state: LensState): ReadonlySet<string> {
  return truncatedIds(state.labelEmbeddings);
}

const truncatedIds = memoLast((labels: LabelEmbeddings | null): ReadonlySet<string> => {
  const ids = new Set<string>();
  labels?.truncated.forEach((isTruncated, index) => {
    const id = labels.labelIds[index];
    if (isTruncated && id) ids.add(id);
  });
  return ids;
});

/** One image's probability for one label, or null when either is not embedded. */
export function selectLabelProbability(
  state: LensState,
  imageId: string,
  labelId: string | null,
): number | null {
  const embedding = state.images[imageId]?.embedding;
  const labels = state.labelEmbeddings;
  const rule = selectScoringRule(state);
  if (!embedding || !labels || !labelId || rule === null) return null;
  const index = labels.labelIds.indexOf(labelId);
  const scores = index >= 0 ? scoreImage(embedding, labels, rule) : null;
  return scores?.probabilities[index] ?? null;
}

const bestCosineRange = memoLast(
  (imageIds: string[], images: Record<string, ImageEntry>, labels: LabelEmbeddings | null) => {
    if (!labels || labels.labelIds.length === 0) return null;
    const dimension = labels.dim;
    let low = Infinity;
    let high = -Infinity;
    let count = 0;
    for (const id of imageIds) {
      const embedding = images[id]?.embedding;
      if (!embedding || embedding.length !== dimension) continue;
      let best = -Infinity;
      for (let row = 0; row < labels.labelIds.length; row++)
        best = Math.max(
          best,
          dot(embedding, labels.embeddings.subarray(row * dimension, (row + 1) * dimension)),
        );
      low = Math.min(low, best);
      high = Math.max(high, best);
      count += 1;
    }
    return count > 0 ? { low, high, count } : null;
  },
);

/**
 * Lowest and highest cosine of each image's best label, over the images classified here: what a good match scores
 * with this model and these labels (Help quotes it instead of a range that holds for one model only).
 */
export function selectBestCosineRange(state: LensState): { low: number; high: number; count: number } | null {
  return bestCosineRange(state.imageIds, state.images, state.labelEmbeddings);
}

/** A file that gave no image: refused by the worker (its card says why) or skipped unread (only this list does). */
export interface RefusedFile {
  /** The card's image id; null for a file that was skipped without a card. */
  imageId: string | null;
  name: string;
  reason: string;
}

const refusedFiles = memoLast(
  (imageIds: string[], images: Record<string, ImageEntry>, skipped: LensState['skippedFiles']) => {
    const refused: RefusedFile[] = [];
    for (const id of imageIds) {
      const image = images[id];
      // A cancelled image was not refused: added again, it is embedded.
      if (image?.status === 'failed' && image.error !== CANCELLED_MESSAGE)
        refused.push({ imageId: id, name: image.name, reason: image.error ?? 'It could not be read.' });
    }
    for (const file of skipped) refused.push({ imageId: null, name: file.name, reason: file.reason });
    return refused;
  },
);

/** Every file of this session that gave no image, in the order added (cards first, then skipped files). */
export function selectRefusedFiles(state: LensState): RefusedFile[] {
  return refusedFiles(state.imageIds, state.images, state.skippedFiles);
}
