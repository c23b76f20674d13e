/**
 * Gathers what Export writes from the store: every image's scores for every label, in the order the grid shows
 * them, and the model and label set they came from.
 */
import type { ExportContext, ExportImage } from '../export/results';
import { selectAllLabelScores, selectOutcome, selectRankedImageIds, selectScoringRule } from './selectors';
import type { LensState } from './store';

/** The outcome written for an image no label applies to. */
export const NONE_OF_THESE = 'none of these';

export interface ExportSnapshot {
  context: ExportContext;
  images: ExportImage[];
}

/** Null until a model is loaded and the labels are embedded. */
export function exportSnapshot(state: LensState, now = new Date()): ExportSnapshot | null {
  const labels = state.labelEmbeddings;
  const rule = selectScoringRule(state);
  if (!state.model || !labels || rule === null) return null;
  const textOf = new Map(labels.labelIds.map((id, index) => [id, labels.labelTexts[index]!]));
  const images = selectRankedImageIds(state).flatMap((id): ExportImage[] => {
    const image = state.images[id];
    if (!image) return [];
    const ranked = selectAllLabelScores(state, id).map(({ label, probability, cosine }) => ({
      label,
      probability,
      cosine,
    }));
    if (ranked.length === 0) return [{ id, name: image.name, scores: [], top: null, error: image.error }];
    const outcome = selectOutcome(state, id);
    const applied = outcome?.kind === 'labels' ? outcome.labelIds.map((labelId) => textOf.get(labelId)!) : [];
    const folders = applied.length > 0 ? applied : [NONE_OF_THESE];
    return [{ id, name: image.name, scores: ranked, top: folders.join('; '), folders, error: null }];
  });
  return {
    context: {
      modelId: state.model.manifest.id,
      modelName: state.model.manifest.name,
      mode:
        rule.mode === 'multi'
          ? 'multi-label'
          : rule.allowNone
            ? 'single-label, none allowed'
            : 'single-label',
      labels: [...labels.labelTexts],
      templates: [...state.templates],
      logitScale: rule.logitScale,
      exportedAt: now,
    },
    images,
  };
}
