import { useLensStore } from '../../state/store';

/** One label per image (softmax) or any number (each label on its own), and whether "none of these" may win. */
export function ModeControls() {
  const mode = useLensStore((state) => state.classificationMode);
  const allowNone = useLensStore((state) => state.allowNone);
  const setMode = useLensStore((state) => state.setClassificationMode);
  const setAllowNone = useLensStore((state) => state.setAllowNone);
  return (
    <fieldset className="mode-controls">
      <legend className="visually-hidden">How labels are chosen</legend>
      <label className="mode-controls__option">
        <input type="radio" name="mode" checked={mode === 'single'} onChange={() => setMode('single')} />
        One label per image
      </label>
      <label className="mode-controls__option">
        <input type="radio" name="mode" checked={mode === 'multi'} onChange={() => setMode('multi')} />
        Any number of labels
      </label>
      <label className="mode-controls__option">
        <input type="checkbox" checked={allowNone} onChange={(event) => setAllowNone(event.target.checked)} />
        Allow “none of these”
      </label>
    </fieldset>
  );
}
