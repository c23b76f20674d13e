import { useEffect } from 'react';
import { applyPreset, undoLabelEdit } from '../state/engineBridge';
import { PRESETS } from '../state/presets';
import { useLensStore } from '../state/store';
import { FullTemplatesOffer } from './FullTemplatesOffer';

/** True when a key press belongs to a text field (its own Ctrl+Z undoes typing there). */
function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
  );
}

/** Label presets and Undo for label edits (button, and Ctrl/⌘+Z outside text fields). */
export function LabelTools() {
  const lastEdit = useLensStore((state) => state.labelUndo.at(-1)?.description ?? null);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key.toLowerCase() !== 'z' || !(event.ctrlKey || event.metaKey) || event.shiftKey) return;
      if (isTyping(event.target)) return;
      if (undoLabelEdit()) event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <>
      <div className="label-tools">
        <select
          className="select select--small"
          aria-label="Use a label preset"
          value=""
          onChange={(event) => {
            if (event.target.value) void applyPreset(event.target.value);
          }}
        >
          <option value="">Use a preset…</option>
          {PRESETS.map((preset) => (
            <option key={preset.id} value={preset.id}>
              {preset.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="button button--quiet button--small"
          disabled={lastEdit === null}
          aria-label={lastEdit ? `Undo ${lastEdit}` : 'Undo'}
          title={lastEdit ? `Undo ${lastEdit} (Ctrl+Z)` : 'Nothing to undo'}
          onClick={() => undoLabelEdit()}
        >
          Undo
        </button>
      </div>
      <FullTemplatesOffer />
    </>
  );
}
