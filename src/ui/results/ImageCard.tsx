import { memo } from 'react';
import { removeImage } from '../../state/engineBridge';
import type { ImageEntry } from '../../state/imagesSlice';
import {
  selectLabelProbability,
  selectOutcome,
  selectReferenceCosine,
  selectTopLabels,
} from '../../state/selectors';
import { useLensStore } from '../../state/store';
import { formatMs, formatPercent } from '../../core/format';
import { ScoreRow } from './ScoreRow';

const TOP_LABELS = 3;
/** Marks the "none of these" outcome in the card's outcome string (label ids never start with a space). */
const NONE = ' none';

function statusText(image: ImageEntry): string {
  switch (image.status) {
    case 'queued':
      return 'Waiting…';
    case 'embedding':
      return 'Embedding…';
    case 'failed':
      return image.error ?? 'Could not be embedded.';
    case 'done':
      return 'Add labels to classify.';
  }
}

interface ImageCardProps {
  imageId: string;
  /** In a windowed grid, where this card sits among all of them (1-based), for assistive technology. */
  position?: number | undefined;
  setSize?: number | undefined;
}

/** One image: its thumbnail, name and top labels. Subscribes to its own entry only, so cards re-render alone. */
export const ImageCard = memo(function ImageCard({ imageId, position, setSize }: ImageCardProps) {
  const image = useLensStore((state) => state.images[imageId]);
  const topLabels = useLensStore((state) => selectTopLabels(state, imageId, TOP_LABELS));
  const selectedLabelId = useLensStore((state) => state.selectedLabelId);
  const selectedLabel = useLensStore(
    (state) =>
      state.labelEmbeddings?.labelTexts[state.labelEmbeddings.labelIds.indexOf(state.selectedLabelId ?? '')],
  );
  const selectedProbability = useLensStore((state) =>
    selectLabelProbability(state, imageId, selectedLabelId),
  );
  const referenceCosine = useLensStore((state) => selectReferenceCosine(state, imageId));
  const isReference = useLensStore((state) => state.similarToImageId === imageId);
  const toggleSimilarTo = useLensStore((state) => state.toggleSimilarTo);
  // Strings, not the outcome object, so the card re-renders only when the decision changes.
  const outcome = useLensStore((state) => {
    const decided = selectOutcome(state, imageId);
    return decided === null ? '' : decided.kind === 'none' ? NONE : decided.labelIds.join('\n');
  });
  const isMulti = useLensStore((state) => state.classificationMode === 'multi');
  const openLightbox = useLensStore((state) => state.openLightbox);
  if (!image) return null;
  const applied = outcome === NONE ? [] : outcome.split('\n');

  return (
    <article
      className="card"
      data-testid="image-card"
      data-status={image.status}
      data-outcome={outcome === NONE ? 'none' : undefined}
      aria-label={image.name}
      aria-posinset={position}
      aria-setsize={setSize}
    >
      <div className="card__thumb">
        <button
          type="button"
          className="card__open"
          aria-label={`Open ${image.name} with all its scores`}
          onClick={() => openLightbox(imageId)}
        >
          {image.thumbnailUrl ? (
            <img src={image.thumbnailUrl} alt="" loading="lazy" decoding="async" draggable={false} />
          ) : (
            <span className={`card__placeholder card__placeholder--${image.status}`} aria-hidden="true" />
          )}
        </button>
        {referenceCosine !== null ? (
          <span
            className="card__badge"
            data-testid="reference-cosine"
            title={
              isReference
                ? 'The image the others are ranked by'
                : 'Cosine similarity to what the grid is ranked by'
            }
          >
            {isReference ? 'This image' : `cos ${referenceCosine.toFixed(3)}`}
          </span>
        ) : (
          selectedProbability !== null &&
          selectedLabel && (
            <span className="card__badge" title={`Probability of “${selectedLabel}”`}>
              {formatPercent(selectedProbability)}
            </span>
          )
        )}
        {image.embedding && (
          <button
            type="button"
            className="card__similar"
            aria-pressed={isReference}
            aria-label={`Rank images by similarity to ${image.name}`}
            title="Rank every image by how alike it is to this one"
            onClick={() => toggleSimilarTo(imageId)}
          >
            Similar
          </button>
        )}
        <button
          type="button"
          className="card__remove"
          aria-label={`Remove ${image.name}`}
          title="Remove"
          onClick={() => removeImage(imageId)}
        >
          ×
        </button>
      </div>
      <div className="card__body">
        <p className="card__name" title={image.name} dir="auto">
          {image.name}
        </p>
        {outcome === NONE && (
          <p className="card__none" data-testid="none-of-these">
            None of these
          </p>
        )}
        {topLabels.length > 0 ? (
          <ol className="card__scores" aria-label={`Top labels for ${image.name}`}>
            {topLabels.map((score) => (
              <ScoreRow
                key={score.labelId}
                score={score}
                isHighlighted={score.labelId === selectedLabelId}
                isApplied={isMulti && applied.includes(score.labelId)}
              />
            ))}
          </ol>
        ) : (
          <p className={image.status === 'failed' ? 'card__status card__status--error' : 'card__status'}>
            {statusText(image)}
          </p>
        )}
        {image.ms !== null && image.status === 'done' && (
          <p className="card__meta">
            {image.width}×{image.height} · {formatMs(image.ms)}
          </p>
        )}
      </div>
    </article>
  );
});
