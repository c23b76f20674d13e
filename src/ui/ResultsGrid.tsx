import { selectRankedImageIds } from '../state/selectors';
import { useLensStore } from '../state/store';
import { ImageCard } from './ImageCard';

/**
 * The thumbnail grid. Cards use `content-visibility: auto` (styles.css), so the browser skips layout and paint
 * for the ones off screen, and thumbnails load lazily; hundreds of images stay cheap without a windowing library.
 */
export function ResultsGrid() {
  const imageIds = useLensStore(selectRankedImageIds);
  return (
    <div className="grid">
      {imageIds.map((id) => (
        <ImageCard key={id} imageId={id} />
      ))}
    </div>
  );
}
