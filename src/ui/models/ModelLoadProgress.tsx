import type { LoadProgress } from '../../state/modelSlice';
import { useLensStore } from '../../state/store';
import { formatBytes } from '../../core/format';

function describeStage(progress: LoadProgress | null): string {
  switch (progress?.stage) {
    case 'manifest':
      return 'Reading the model manifest';
    case 'download':
      return progress.file ? `Downloading ${progress.file}` : 'Downloading the model';
    case 'session':
      return progress.file ? `Preparing ${progress.file}` : 'Starting the runtime';
    case 'probe':
      return 'Checking the backend gives correct numbers';
    default:
      return 'Starting the model';
  }
}

/** Shown while the model loads: which stage, which file, how many bytes. */
export function ModelLoadProgress() {
  const status = useLensStore((state) => state.modelStatus);
  const progress = useLensStore((state) => state.loadProgress);
  if (status !== 'loading') return null;

  const hasBytes = progress?.stage === 'download' && progress.total > 0;
  const fraction = progress && progress.total > 0 ? Math.min(1, progress.loaded / progress.total) : null;

  return (
    <div className="progress progress--model" aria-live="polite">
      <div className="progress__text">
        <span>{describeStage(progress)}…</span>
        {hasBytes && (
          <span className="muted">
            {formatBytes(progress.loaded)} / {formatBytes(progress.total)}
          </span>
        )}
      </div>
      <div
        className={fraction === null ? 'progress__track progress__track--indeterminate' : 'progress__track'}
        role="progressbar"
        aria-label="Model loading"
        aria-valuemin={0}
        aria-valuemax={fraction === null ? undefined : 1}
        aria-valuenow={fraction ?? undefined}
      >
        <div
          className="progress__fill"
          style={fraction === null ? undefined : { width: `${fraction * 100}%` }}
        />
      </div>
    </div>
  );
}
