import { useId } from 'react';
import { plural } from '../../state/imageFiles';
import { searchImages } from '../../state/searchPipeline';
import { selectQueryCosineRange, selectRankedImageIds } from '../../state/selectors';
import { useLensStore } from '../../state/store';

/**
 * Search the loaded images by any text, live as you type: the text tower embeds the query, images come from the
 * cache, and the grid is ranked by cosine. Once there are results, a slider hides the images below a cosine.
 */
export function SearchBar() {
  const query = useLensStore((state) => state.searchQuery);
  const status = useLensStore((state) => state.searchStatus);
  const error = useLensStore((state) => state.searchError);
  const isReady = useLensStore((state) => state.modelStatus === 'ready');
  const range = useLensStore(selectQueryCosineRange);
  const threshold = useLensStore((state) => state.searchThreshold);
  const setThreshold = useLensStore((state) => state.setSearchThreshold);
  const shown = useLensStore((state) => selectRankedImageIds(state).length);
  const total = useLensStore((state) => state.imageIds.length);
  const sliderId = useId();

  return (
    <search className="search" aria-label="Search images by text">
      <input
        type="search"
        className="search__input"
        aria-label="Search images by text"
        placeholder="Search the images by text, e.g. “a dog on a beach”"
        value={query}
        disabled={!isReady}
        onChange={(event) => searchImages(event.target.value)}
        dir="auto"
      />
      <span className="search__status" role="status">
        {status === 'embedding' && 'Searching…'}
        {status === 'error' && <span className="search__error">The search failed: {error}</span>}
        {status === 'ready' &&
          query.trim() !== '' &&
          `${plural(shown, 'image')} of ${total} · best match first`}
      </span>
      {range && status !== 'error' && (
        <span className="search__threshold">
          <label htmlFor={sliderId}>Hide below cosine</label>
          <input
            id={sliderId}
            type="range"
            min={range.low}
            max={range.high}
            step={0.001}
            value={threshold ?? range.low}
            onChange={(event) => {
              const value = Number(event.target.value);
              setThreshold(value <= range.low ? null : value);
            }}
          />
          <output htmlFor={sliderId}>{(threshold ?? range.low).toFixed(3)}</output>
        </span>
      )}
    </search>
  );
}
