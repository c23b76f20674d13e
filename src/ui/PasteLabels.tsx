import { useState } from 'react';
import { setLabels } from '../state/engineBridge';
import { useLensStore } from '../state/store';

/** A textarea for many labels at once, one per line; it replaces the current list. */
export function PasteLabels({ onClose }: { onClose: () => void }) {
  const [text, setText] = useState(() =>
    useLensStore
      .getState()
      .labels.map((label) => label.text)
      .join('\n'),
  );

  const apply = () => {
    setLabels(text.split('\n'));
    onClose();
  };

  return (
    <div className="paste-labels">
      <label className="field-label" htmlFor="paste-labels">
        One label per line
      </label>
      <textarea
        id="paste-labels"
        className="input textarea"
        aria-label="Labels, one per line"
        rows={8}
        value={text}
        autoFocus
        onChange={(event) => setText(event.target.value)}
      />
      <div className="row-actions">
        <button
          type="button"
          className="button button--primary"
          aria-label="Use these labels"
          onClick={apply}
        >
          Use these labels
        </button>
        <button
          type="button"
          className="button button--quiet"
          aria-label="Cancel pasting labels"
          onClick={onClose}
        >
          Cancel
        </button>
      </div>
    </div>
  );
}
