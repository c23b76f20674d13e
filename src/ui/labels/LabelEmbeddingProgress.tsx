import { cancelLabelEmbedding, embedLabelsAgain } from '../../state/engineBridge';
import type { LabelEmbeddingProgress as Progress } from '../../state/labelsSlice';
import { useLensStore } from '../../state/store';
import { formatDuration } from '../../core/format';
import { ProgressBar, percentOf } from '../shell/ProgressBar';

/** Time left from the rate so far; null until a first batch is done (the first may include opening the tower). */
export function secondsLeft(progress: Progress): number | null {
  const elapsed = progress.updatedAt - progress.startedAt;
  if (progress.done <= 0 || elapsed <= 0) return null;
  return ((progress.total - progress.done) * elapsed) / progress.done / 1000;
}

export function progressText(progress: Progress): string {
  const count = `${progress.done.toLocaleString('en-US')} of ${progress.total.toLocaleString('en-US')} prompts`;
  const left = secondsLeft(progress);
  return left === null
    ? `${count} · time left after the first batch`
    : `${count} · about ${formatDuration(left)} left`;
}

/**
 * While labels are embedded: done/total prompts, the time left and Cancel. After a cancel with no earlier labels to
 * go back to, it says the images are not ranked by these labels and offers to embed them.
 */
export function LabelEmbeddingProgress() {
  const status = useLensStore((state) => state.labelEmbeddingStatus);
  const progress = useLensStore((state) => state.labelEmbeddingProgress);
  if (status === 'cancelled') {
    return (
      <div className="label-progress" role="status" data-testid="label-embedding-cancelled">
        <p className="field-note field-note--warning">
          Embedding was cancelled: the images are not ranked by these labels.
        </p>
        <button type="button" className="button button--small" onClick={embedLabelsAgain}>
          Embed the labels
        </button>
      </div>
    );
  }
  // Labels the cache remembers (total 0) come back at once: nothing to show.
  if (status !== 'embedding' || !progress || progress.total === 0) return null;
  return (
    <div className="label-progress" data-testid="label-embedding-progress">
      <ProgressBar
        label="Embedding the labels"
        percent={percentOf(progress.done, progress.total)}
        text={`Embedding the labels: ${progressText(progress)}`}
      />
      <button
        type="button"
        className="button button--quiet button--small"
        aria-label="Cancel embedding the labels"
        onClick={cancelLabelEmbedding}
      >
        Cancel
      </button>
    </div>
  );
}
