import { loadModel } from '../../state/engineBridge';
import { selectMeanImageMs } from '../../state/selectors';
import { useLensStore } from '../../state/store';
import type { LoadedModel } from '../../core/protocol';
import { backendName, formatMs } from '../../core/format';
import { SemanticWarning } from '../hub/SemanticWarning';

function describeBackend(model: LoadedModel): string {
  const parts = [backendName(model.backend), model.dtype];
  if (model.backend === 'wasm') parts.push(`${model.threads} ${model.threads === 1 ? 'thread' : 'threads'}`);
  return parts.join(' · ');
}

const isIsolated = typeof crossOriginIsolated === 'undefined' ? true : crossOriginIsolated;

/** What is actually running: backend, precision, threads, model, speed, and anything that went wrong. */
export function StatusBar() {
  const status = useLensStore((state) => state.modelStatus);
  const model = useLensStore((state) => state.model);
  const modelError = useLensStore((state) => state.modelError);
  const backendChanges = useLensStore((state) => state.backendChanges);
  const meanMs = useLensStore(selectMeanImageMs);
  // A fallback during the load is both a load note and a backend change: each sentence is shown once.
  const notes = [...new Set([...(model?.fallbackNotes ?? []), ...backendChanges])];

  const backendText =
    status === 'ready' && model
      ? describeBackend(model)
      : status === 'loading'
        ? 'Starting…'
        : status === 'error'
          ? 'No backend'
          : 'Not started';

  return (
    <footer className="status-bar">
      <span
        className={`status-bar__item status-dot status-dot--${status}`}
        data-testid="status-backend"
        title={
          model
            ? `Probe cosine to the PyTorch reference: image ${model.probeCosine.image.toFixed(4)}, text ${model.probeCosine.text?.toFixed(4) ?? '(checked when labels first need the text tower)'}`
            : undefined
        }
      >
        {backendText}
      </span>
      <span className="status-bar__item status-bar__secondary" data-testid="status-model">
        {model ? model.manifest.name : status === 'loading' ? 'Loading model…' : 'No model'}
      </span>
      {model && <SemanticWarning manifest={model.manifest} compact />}
      {model && (
        <span className="status-bar__item status-bar__secondary muted">
          loaded in {formatMs(model.loadMs)}
        </span>
      )}
      {meanMs !== null && <span className="status-bar__item">{formatMs(meanMs)} per image</span>}
      {!isIsolated && (
        <span className="status-bar__item status-bar__warning">
          Not cross-origin isolated: WASM runs on one thread
        </span>
      )}
      {notes.length > 0 && (
        <span
          className="status-bar__item status-bar__notes"
          data-testid="status-notes"
          title={notes.join('\n')}
        >
          {notes.join(' · ')}
        </span>
      )}
      {modelError && (
        <span className="status-bar__item status-bar__error" role="alert">
          {modelError}{' '}
          <button
            type="button"
            className="link-button"
            aria-label="Retry loading the model"
            onClick={() => void loadModel()}
          >
            Retry
          </button>
        </span>
      )}
    </footer>
  );
}
