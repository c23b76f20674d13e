import { useState } from 'react';
import { LABEL_PLACEHOLDER } from '../../core/templates';
import { setTemplates } from '../../state/engineBridge';
import { useLensStore } from '../../state/store';

/**
 * Prompt templates, one per line, `{}` standing for the label. Several templates are averaged (CLIP's prompt
 * ensembling), which usually helps a little.
 */
export function TemplatesEditor() {
  const templates = useLensStore((state) => state.templates);
  const [draft, setDraft] = useState<string | null>(null);
  const text = draft ?? templates.join('\n');
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const withoutPlaceholder = lines.filter((line) => !line.includes(LABEL_PLACEHOLDER)).length;
  const isChanged = draft !== null && draft.trim() !== templates.join('\n').trim();

  const apply = () => {
    setTemplates(text.split('\n'));
    setDraft(null);
  };

  return (
    <details className="panel templates">
      <summary className="templates__summary">
        Prompt templates <span className="muted">({templates.length})</span>
      </summary>
      <p className="field-note">
        One per line; <code>{LABEL_PLACEHOLDER}</code> is replaced by the label. Several templates are
        averaged.
      </p>
      <textarea
        className="input textarea textarea--mono"
        aria-label="Prompt templates, one per line"
        rows={4}
        value={text}
        onChange={(event) => setDraft(event.target.value)}
      />
      {withoutPlaceholder > 0 && (
        <p className="field-note field-note--warning">
          {withoutPlaceholder === 1 ? 'One template has' : `${withoutPlaceholder} templates have`} no{' '}
          <code>{LABEL_PLACEHOLDER}</code>: the label will be added at the end.
        </p>
      )}
      <div className="row-actions">
        <button
          type="button"
          className="button button--primary"
          aria-label="Apply templates"
          disabled={!isChanged}
          onClick={apply}
        >
          Apply
        </button>
        <button
          type="button"
          className="button button--quiet"
          aria-label="Reset templates to the default"
          onClick={() => {
            setTemplates([]);
            setDraft(null);
          }}
        >
          Reset
        </button>
      </div>
    </details>
  );
}
