import { cancel } from '../../state/engineBridge';
import { useLensStore } from '../../state/store';
import { formatRate } from '../../core/format';

/** After Cancel: what the stopped batch got through, until the next batch starts or the images are cleared. */
function CancelledRun({ embedded, total }: { embedded: number; total: number }) {
  return (
    <div className="progress" data-testid="progress" data-state="cancelled" role="status">
      <div className="progress__text">
        <span>
          Cancelled ·{' '}
          <strong>
            {embedded} of {total}
          </strong>{' '}
          embedded
        </span>
      </div>
    </div>
  );
}

/** Progress of the batch being embedded, with its speed and a Cancel button. */
export function RunProgress() {
  const run = useLensStore((state) => state.run);
  const isModelLoading = useLensStore((state) => state.modelStatus === 'loading');
  if (!run.isRunning)
    return run.wasCancelled ? <CancelledRun embedded={run.embedded} total={run.total} /> : null;

  const processed = run.embedded + run.failed;
  const fraction = run.total > 0 ? processed / run.total : 0;

  return (
    <div className="progress" data-testid="progress" aria-live="polite">
      <div className="progress__text">
        <span>
          {isModelLoading ? 'Waiting for the model · ' : 'Embedding images · '}
          <strong>
            {processed} / {run.total}
          </strong>
        </span>
        {run.imagesPerSecond > 0 && <span className="muted">{formatRate(run.imagesPerSecond)} images/s</span>}
        {run.failed > 0 && <span className="muted">{run.failed} failed</span>}
      </div>
      <div
        className="progress__track"
        role="progressbar"
        aria-label="Images embedded"
        aria-valuemin={0}
        aria-valuemax={run.total}
        aria-valuenow={processed}
      >
        <div className="progress__fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
      <button
        type="button"
        className="button button--small"
        data-testid="cancel"
        aria-label="Cancel embedding"
        onClick={cancel}
      >
        Cancel
      </button>
    </div>
  );
}
