import { useState } from 'react';
import { setLabelsInSteps } from '../../state/engineBridge';
import { useLensStore } from '../../state/store';

/** A textarea for many labels at once, one per line; it replaces the current list. */
export function PasteLabels({ onClose }: { onClose: () => void }) {
  const [text, setText] = useState(() =>
    useLensStore
      .getState()
      .labels.map((label) => label.text)
      .join('\n'),
  );

  const apply = async () => {
    const lines = text.split('\n');
    // Closed first: taking a 200 kB textarea out of the page is work of its own, done before the labels' steps.
    onClose();
    const { kept, duplicates } = await setLabelsInSteps(lines);
    // Blank lines are layout, not mistakes; repeated labels are worth a word.
    if (duplicates > 0) {
      useLensStore
        .getState()
        .pushNotice(
          `Using ${kept} labels: ${duplicates} repeated ${duplicates === 1 ? 'line was' : 'lines were'} left out (labels are compared ignoring case and extra spaces).`,
        );
    }
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
        dir="auto"
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
          onClick={() => void apply()}
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
