import { useEffect } from 'react';
import { applyPreset, undoLabelEdit } from '../../state/engineBridge';
import { selectMsPerPrompt } from '../../state/labelsSlice';
import { PRESETS, presetRun, type PresetEntry } from '../../state/presets';
import { useLensStore } from '../../state/store';
import { formatDuration } from '../../core/format';

/**
 * The menu's line for a preset: what it will run and, when it was measured on this device with the model in use,
 * how long that takes; never a guessed time.
 */
export function presetOptionText(entry: PresetEntry, msPerPrompt: number | null): string {
  const run = presetRun(entry, msPerPrompt);
  const prompts = `${run.labels.toLocaleString('en-US')} labels × ${run.templates} = ${run.prompts.toLocaleString('en-US')} prompts`;
  const time =
    run.seconds === null
      ? 'time on this model not measured yet'
      : `up to about ${formatDuration(run.seconds)} on this model here`;
  return `${entry.name} — ${prompts}, ${time}`;
}

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
  const msPerPrompt = useLensStore(selectMsPerPrompt);

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
            {presetOptionText(preset, msPerPrompt)}
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
  );
}
