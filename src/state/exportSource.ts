/**
 * Gathers what Export writes from the store: every image's scores for every label, in the order the grid shows
 * them, and the model and label set they came from.
 */
import type { ExportContext, ExportImage } from '../export/results';
import { scoreImage, selectLogitScale, selectRankedImageIds } from './selectors';
import type { LensState } from './store';

export interface ExportSnapshot {
  context: ExportContext;
  images: ExportImage[];
}

/** Null until a model is loaded and the labels are embedded. */
export function exportSnapshot(state: LensState, now = new Date()): ExportSnapshot | null {
  const labels = state.labelEmbeddings;
  const logitScale = selectLogitScale(state);
  if (!state.model || !labels || logitScale === null) return null;
  const images = selectRankedImageIds(state).flatMap((id): ExportImage[] => {
    const image = state.images[id];
    if (!image) return [];
    const scores = image.embedding ? scoreImage(image.embedding, labels, logitScale) : null;
    if (!scores) return [{ id, name: image.name, scores: [], top: null, error: image.error }];
    const ranked = labels.labelTexts
      .map((label, index) => ({
        label,
        probability: scores.probabilities[index] ?? 0,
        cosine: scores.cosines[index] ?? 0,
      }))
      .sort((a, b) => b.probability - a.probability);
    return [{ id, name: image.name, scores: ranked, top: ranked[0]?.label ?? null, error: null }];
  });
  return {
    context: {
      modelId: state.model.manifest.id,
      modelName: state.model.manifest.name,
      mode: 'single-label',
      labels: [...labels.labelTexts],
      templates: [...state.templates],
      logitScale,
      exportedAt: now,
    },
    images,
  };
}
