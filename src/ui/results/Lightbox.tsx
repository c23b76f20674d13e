import { useEffect, useMemo } from 'react';
import { imageFileOf } from '../../state/imagePipeline';
import { selectAllLabelScores, selectRankedImageIds, type LabelScore } from '../../state/selectors';
import { useLensStore } from '../../state/store';
import { formatPercent } from '../../core/format';
import { ModalDialog } from '../shell/ModalDialog';

const NO_SCORES: LabelScore[] = [];

/** Every label's probability and cosine for one image, best first, beside the image at full size. */
export function Lightbox() {
  const imageId = useLensStore((state) => state.lightboxImageId);
  const openLightbox = useLensStore((state) => state.openLightbox);
  const image = useLensStore((state) => (imageId ? state.images[imageId] : undefined));
  const scores = useLensStore((state) => (imageId ? selectAllLabelScores(state, imageId) : NO_SCORES));
  const order = useLensStore(selectRankedImageIds);
  // The original only for an image that decoded here (a refused file, e.g. a decompression bomb, is never shown).
  const fullUrl = useFullSizeUrl(image?.status === 'done' ? imageId : null);

  const position = imageId ? order.indexOf(imageId) : -1;
  const step = (delta: number) => {
    const next = order[position + delta];
    if (next) openLightbox(next);
  };

  useEffect(() => {
    if (!imageId) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'ArrowRight') step(1);
      else if (event.key === 'ArrowLeft') step(-1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  if (!imageId || !image) return null;
  return (
    <ModalDialog
      title={<span dir="auto">{image.name}</span>}
      className="lightbox"
      onClose={() => openLightbox(null)}
      testId="lightbox"
    >
      <div className="lightbox__body">
        <figure className="lightbox__figure">
          {(fullUrl ?? image.thumbnailUrl) && <img src={fullUrl ?? image.thumbnailUrl!} alt={image.name} />}
          <figcaption className="muted">
            {image.width && image.height ? `${image.width}×${image.height} · ` : ''}
            {position + 1} of {order.length} · ← → for the previous and next image
          </figcaption>
        </figure>
        <div className="lightbox__scores" tabIndex={0} role="region" aria-label="Every label's score">
          {scores.length === 0 ? (
            <p className="muted">
              {image.error ?? 'No scores yet: add labels, or wait until the image is embedded.'}
            </p>
          ) : (
            <table className="lightbox__table">
              <caption className="visually-hidden">Every label's score for {image.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Probability</th>
                  <th scope="col">Cosine</th>
                </tr>
              </thead>
              <tbody>
                {scores.map((score) => (
                  <tr key={score.label}>
                    <td dir="auto">{score.label}</td>
                    <td>{formatPercent(score.probability)}</td>
                    <td>{score.cosine.toFixed(3)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
      <div className="lightbox__nav">
        <button
          type="button"
          className="button button--small"
          disabled={position <= 0}
          onClick={() => step(-1)}
        >
          ← Previous
        </button>
        <button
          type="button"
          className="button button--small"
          disabled={position < 0 || position >= order.length - 1}
          onClick={() => step(1)}
        >
          Next →
        </button>
      </div>
    </ModalDialog>
  );
}

/** An object URL of the original file while the lightbox shows it (revoked after), or null if not held. */
function useFullSizeUrl(imageId: string | null): string | null {
  const url = useMemo(() => {
    const file = imageId ? imageFileOf(imageId) : undefined;
    return file ? URL.createObjectURL(file) : null;
  }, [imageId]);
  useEffect(() => () => (url ? URL.revokeObjectURL(url) : undefined), [url]);
  return url;
}
