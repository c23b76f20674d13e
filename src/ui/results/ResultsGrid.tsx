import { useCallback, useLayoutEffect, useRef, useState, type CSSProperties } from 'react';
import { selectRankedImageIds } from '../../state/selectors';
import { useLensStore } from '../../state/store';
import { gridWindow, type GridGeometry } from './gridWindow';
import { ImageCard } from './ImageCard';

/**
 * From this many images on, only the cards near the screen are in the DOM. Below it every card is (find in page
 * and screen readers reach them all; `content-visibility: auto` already skips layout and paint off screen). A
 * card is ~90 DOM nodes, so 2,000 cards were 176,000 nodes and every store update paid for them.
 */
export const WINDOWED_FROM = 200;

/** Must match `.grid` and `.grid--windowed .card__body` in styles.css. */
const MIN_COLUMN_WIDTH = 190;
const GAP = 14;
const CARD_BODY_HEIGHT = 192;
const THUMB_ASPECT = 3 / 4;

/** The thumbnail grid, ranked by the selected label when there is one. */
export function ResultsGrid() {
  const imageIds = useLensStore(selectRankedImageIds);
  if (imageIds.length >= WINDOWED_FROM) return <WindowedGrid imageIds={imageIds} />;
  return (
    <div className="grid" id="images" tabIndex={-1}>
      {imageIds.map((id) => (
        <ImageCard key={id} imageId={id} />
      ))}
    </div>
  );
}

interface Viewport {
  width: number;
  /** The visible part of the screen, measured from the grid's top edge. */
  top: number;
  bottom: number;
}

function WindowedGrid({ imageIds }: { imageIds: readonly string[] }) {
  const outer = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState<Viewport>({ width: 0, top: 0, bottom: 0 });

  const measure = useCallback(() => {
    const box = outer.current?.getBoundingClientRect();
    if (!box) return;
    const next = { width: box.width, top: -box.top, bottom: window.innerHeight - box.top };
    setViewport((previous) =>
      previous.width === next.width && previous.top === next.top && previous.bottom === next.bottom
        ? previous
        : next,
    );
  }, []);

  useLayoutEffect(() => {
    const element = outer.current;
    if (!element) return;
    measure();
    // Whatever scrolls (the results pane, or the page on narrow screens), a captured scroll event reaches the
    // document; one measurement per frame is enough.
    let frame = 0;
    const onScroll = () => {
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          frame = 0;
          measure();
        });
    };
    const resizes = new ResizeObserver(onScroll);
    resizes.observe(element);
    document.addEventListener('scroll', onScroll, { capture: true, passive: true });
    window.addEventListener('resize', onScroll);
    return () => {
      cancelAnimationFrame(frame);
      resizes.disconnect();
      document.removeEventListener('scroll', onScroll, { capture: true });
      window.removeEventListener('resize', onScroll);
    };
  }, [measure]);

  const geometry: GridGeometry = {
    count: imageIds.length,
    width: viewport.width,
    minColumnWidth: MIN_COLUMN_WIDTH,
    gap: GAP,
    bodyHeight: CARD_BODY_HEIGHT,
    thumbAspect: THUMB_ASPECT,
  };
  const shown = gridWindow(geometry, viewport.top, viewport.bottom);
  const innerStyle = {
    transform: `translateY(${shown.offsetTop}px)`,
    '--card-height': `${shown.cardHeight}px`,
  } as CSSProperties;

  return (
    <div
      ref={outer}
      id="images"
      tabIndex={-1}
      className="grid-window"
      style={{ height: shown.totalHeight }}
      data-testid="windowed-grid"
      data-first={shown.first}
      data-last={shown.last}
      aria-label={`${imageIds.length} images; cards appear as you scroll`}
      role="region"
    >
      <div className="grid grid--windowed" style={innerStyle}>
        {imageIds.slice(shown.first, shown.last).map((id, offset) => (
          <ImageCard key={id} imageId={id} position={shown.first + offset + 1} setSize={imageIds.length} />
        ))}
      </div>
    </div>
  );
}
