import { useLensStore } from '../../state/store';
import { FilePickers } from '../images/FilePickers';
import { TrySamplesButton } from '../images/TrySamplesButton';
import { useModelVocabulary } from '../labels/useModelVocabulary';
import { VocabularyNote } from '../labels/VocabularyNote';

/** Which model sorts the images, as far as is known: its manifest's name once loaded, never a claim beyond it. */
function useModelPhrase(): string {
  const name = useLensStore((state) => state.model?.manifest.name ?? null);
  const known = useModelVocabulary();
  if (known?.isDemo) return 'the demo model';
  return name ?? 'a zero-shot image model';
}

/** The first screen: where to drop images, and a one-click demo. */
export function EmptyState() {
  const model = useModelPhrase();
  return (
    <div className="empty">
      <div className="empty__art" aria-hidden="true">
        <span />
        <span />
        <span />
      </div>
      <h2 className="empty__title">Drop images or a whole folder anywhere</h2>
      <p className="empty__text">
        EVA Lens sorts your images into the labels on the left, zero-shot, with {model} running in this tab.
        Nothing is uploaded. You can also paste an image.
      </p>
      <div className="empty__actions">
        <FilePickers variant="empty" />
        <TrySamplesButton className="button button--accent" />
      </div>
      <VocabularyNote />
    </div>
  );
}
