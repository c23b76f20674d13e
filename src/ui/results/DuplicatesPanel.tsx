import { useEffect, useId, useMemo } from 'react';
import { refreshNearDuplicates, setNearDuplicateThreshold } from '../../state/duplicatesPipeline';
import { plural } from '../../state/imageFiles';
import { useLensStore } from '../../state/store';

/**
 * Groups of near-duplicate images (every pair compared by image-to-image cosine in the worker; pairs at or above
 * the threshold join one group). Clicking an image ranks the grid by similarity to it.
 */
export function DuplicatesPanel() {
  const threshold = useLensStore((state) => state.duplicateThreshold);
  const found = useLensStore((state) => state.duplicateGroups);
  const pending = useLensStore((state) => state.duplicatesPending);
  const imageIds = useLensStore((state) => state.imageIds);
  const images = useLensStore((state) => state.images);
  const toggleSimilarTo = useLensStore((state) => state.toggleSimilarTo);
  const sliderId = useId();

  const embeddedCount = useMemo(
    () => imageIds.filter((id) => images[id]?.embedding).length,
    [imageIds, images],
  );
  // New or newly embedded images are compared again (the state action waits for a quiet moment).
  useEffect(() => {
    if (threshold !== null) refreshNearDuplicates();
  }, [embeddedCount, threshold]);
  if (threshold === null) return null;
  // Groups whose images were removed since the answer are shown without them.
  const groups = (found ?? [])
    .map((group) => ({ ...group, imageIds: group.imageIds.filter((id) => images[id]) }))
    .filter((group) => group.imageIds.length > 1);

  return (
    <section className="duplicates" aria-label="Near-duplicates" aria-busy={pending}>
      <div className="duplicates__head">
        <h3 className="duplicates__title">
          {found === null
            ? 'Comparing the images…'
            : groups.length === 0
              ? 'No near-duplicates'
              : `${plural(groups.length, 'group')} of near-duplicates`}
        </h3>
        <label htmlFor={sliderId}>Alike at cosine ≥</label>
        <input
          id={sliderId}
          type="range"
          min={0.8}
          max={1}
          step={0.001}
          value={threshold}
          onChange={(event) => setNearDuplicateThreshold(Number(event.target.value))}
        />
        <output htmlFor={sliderId}>{threshold.toFixed(3)}</output>
        <span className="toolbar__spacer" />
        <button
          type="button"
          className="button button--quiet button--small"
          onClick={() => setNearDuplicateThreshold(null)}
        >
          Close
        </button>
      </div>
      <ol className="duplicates__groups">
        {groups.map((group) => (
          <li key={group.imageIds[0]} className="duplicates__group" data-testid="duplicate-group">
            <span className="duplicates__meta">
              {plural(group.imageIds.length, 'image')} · least alike pair cos {group.weakestLink.toFixed(3)}
            </span>
            <ul className="duplicates__images">
              {group.imageIds.map((imageId) => {
                const image = images[imageId]!;
                return (
                  <li key={image.id}>
                    <button
                      type="button"
                      className="duplicates__image"
                      title={`Rank images by similarity to ${image.name}`}
                      onClick={() => toggleSimilarTo(image.id)}
                    >
                      {image.thumbnailUrl && <img src={image.thumbnailUrl} alt="" />}
                      <span dir="auto">{image.name}</span>
                    </button>
                  </li>
                );
              })}
            </ul>
          </li>
        ))}
      </ol>
    </section>
  );
}
