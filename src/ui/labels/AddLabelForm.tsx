import { useState, type FormEvent } from 'react';
import { addLabel } from '../../state/engineBridge';

/**
 * The new-label field and Add. Its own component so that typing re-renders only this form, never the label list
 * (with 10,000 labels a keystroke must stay within a frame).
 */
export function AddLabelForm() {
  const [draft, setDraft] = useState('');
  const [rejected, setRejected] = useState<string | null>(null);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (draft.trim() === '') return;
    if (addLabel(draft)) {
      setDraft('');
      setRejected(null);
    } else {
      setRejected(`"${draft.trim()}" is already a label.`);
    }
  };

  return (
    <>
      <form className="label-form" onSubmit={onSubmit}>
        <input
          className="input"
          data-testid="label-input"
          aria-label="New label"
          dir="auto"
          placeholder="Add a label…"
          value={draft}
          onChange={(event) => {
            setDraft(event.target.value);
            setRejected(null);
          }}
        />
        <button type="submit" className="button" aria-label="Add label" disabled={draft.trim() === ''}>
          Add
        </button>
      </form>
      {rejected && (
        <p className="field-note field-note--warning" role="alert">
          {rejected}
        </p>
      )}
    </>
  );
}
