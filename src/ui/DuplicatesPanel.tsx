import { useId, useMemo } from 'react';
import { nearDuplicateGroups } from '../engine/similarity';
import { plural } from '../state/imageFiles';
import { useLensStore } from '../state/store';

/**
 * Groups of near-duplicate images (every pair compared by image-to-image cosine; pairs at or above the threshold
 * join one group). Clicking an image ranks the grid by similarity to it.
 */
export function DuplicatesPanel() {
  const threshold = useLensStore((state) => state.duplicateThreshold);
  const setThreshold = useLensStore((state) => state.setDuplicateThreshold);
  const imageIds = useLensStore((state) => state.imageIds);
  const images = useLensStore((state) => state.images);
  const toggleSimilarTo = useLensStore((state) => state.toggleSimilarTo);
  const sliderId = useId();

  const embedded = useMemo(() => imageIds.filter((id) => images[id]?.embedding), [imageIds, images]);
  const groups = useMemo(
    () =>
      threshold === null
        ? []
        : nearDuplicateGroups(
            embedded.map((id) => images[id]!.embedding!),
            threshold,
          ),
    [embedded, images, threshold],
  );
  if (threshold === null) return null;

  return (
    <section className="duplicates" aria-label="Near-duplicates">
      <div className="duplicates__head">
        <h3 className="duplicates__title">
          {groups.length === 0
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
          onChange={(event) => setThreshold(Number(event.target.value))}
        />
        <output htmlFor={sliderId}>{threshold.toFixed(3)}</output>
        <span className="toolbar__spacer" />
        <button
          type="button"
          className="button button--quiet button--small"
          onClick={() => setThreshold(null)}
        >
          Close
        </button>
      </div>
      <ol className="duplicates__groups">
        {groups.map((group) => (
          <li key={embedded[group.members[0]!]} className="duplicates__group" data-testid="duplicate-group">
            <span className="duplicates__meta">
              {plural(group.members.length, 'image')} · least alike pair cos {group.weakestLink.toFixed(3)}
            </span>
            <ul className="duplicates__images">
              {group.members.map((member) => {
                const image = images[embedded[member]!]!;
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
