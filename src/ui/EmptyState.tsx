import { FilePickers } from './FilePickers';
import { TrySamplesButton } from './TrySamplesButton';

/** The first screen: where to drop images, and a one-click demo. */
export function EmptyState() {
  return (
    <div className="empty">
      <div className="empty__art" aria-hidden="true">
        <span />
        <span />
        <span />
      </div>
      <h2 className="empty__title">Drop images or a whole folder anywhere</h2>
      <p className="empty__text">
        EVA Lens sorts your images into the labels on the left, zero-shot, with an EVA-CLIP model running in
        this tab. Nothing is uploaded. You can also paste an image.
      </p>
      <div className="empty__actions">
        <FilePickers variant="empty" />
        <TrySamplesButton className="button button--accent" />
      </div>
    </div>
  );
}
