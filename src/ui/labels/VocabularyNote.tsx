import { vocabularySummary } from '../../state/vocabulary';
import { useLensStore } from '../../state/store';
import { RealModelOffer } from '../hub/RealModelOffer';
import { useModelVocabulary } from './useModelVocabulary';

/**
 * "Demo model: knows 8 colours × 6 shapes, not photos", from the manifest of the model in use, with the road to a
 * real model. Closing it keeps the demo in use; it returns on the next visit and when the model in use changes.
 */
export function VocabularyNote() {
  const known = useModelVocabulary();
  const isDismissed = useLensStore((state) => state.isVocabularyNoteDismissed);
  const dismiss = useLensStore((state) => state.dismissVocabularyNote);
  if (!known || isDismissed) return null;
  return (
    // A note with no label of its own: its first line says what it is (and getByLabel('Model') stays the header's).
    <section className="vocabulary-note" role="note" data-testid="vocabulary-note">
      <div className="vocabulary-note__head">
        <p className="vocabulary-note__title">
          <strong>{known.title}:</strong> {vocabularySummary(known.vocabulary)}.
        </p>
        <button
          type="button"
          className="icon-button"
          aria-label="Dismiss this note (keep using the demo)"
          title="Dismiss (keep using the demo)"
          onClick={dismiss}
        >
          ×
        </button>
      </div>
      {known.description && <p className="vocabulary-note__text">{known.description}</p>}
      <RealModelOffer where="note" />
    </section>
  );
}
