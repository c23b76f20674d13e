import type { TransferState } from '../../state/storageSlice';
import { formatDuration, formatBytes } from '../../core/format';
import { ProgressBar, percentOf } from '../shell/ProgressBar';

const STEPS = [
  { key: 'download', name: 'Downloading' },
  { key: 'convert', name: 'Converting' },
  { key: 'quantize', name: 'Quantizing' },
  { key: 'verify', name: 'Verifying' },
] as const;

/** Which step a transfer stage belongs to (reading the recipe counts as the start of the download). */
function stepIndex(stage: TransferState['stage']): number {
  switch (stage) {
    case 'manifest':
    case 'download':
      return 0;
    case 'convert':
      return 1;
    case 'quantize':
    case 'store':
      return 2;
    case 'verify':
      return 3;
  }
}

function detail(transfer: TransferState): string {
  if (transfer.total === 0) return 'Reading the build recipe…';
  if (transfer.stage === 'download') {
    const parts = [`${formatBytes(transfer.loaded)} of ${formatBytes(transfer.total)}`];
    if (transfer.bytesPerSecond > 0) parts.push(`${formatBytes(transfer.bytesPerSecond)}/s`);
    if (transfer.secondsLeft !== null && transfer.bytesPerSecond > 0)
      parts.push(`${formatDuration(transfer.secondsLeft)} left`);
    return parts.join(' · ');
  }
  if (transfer.stage === 'store') return `Storing ${transfer.file ?? ''}…`;
  if (transfer.stage === 'verify') return 'Running the probe image and prompt on the built model…';
  return `Tensor ${transfer.loaded} of ${transfer.total}${transfer.file ? ` (${transfer.file})` : ''}`;
}

/**
 * What the download says about itself besides bytes: a wait for a busy hub, a fresh address after an expired one,
 * the checksum check. The engine sends these sentences in place of the file name (a name has no spaces).
 */
function downloadNote(transfer: TransferState): string | null {
  const text = transfer.file ?? '';
  return transfer.stage === 'download' && /\s/.test(text) ? text : null;
}

/**
 * The four steps of building a model from the official weights, with the current one's progress. Converting and
 * quantizing run together, tensor by tensor, so both advance at once.
 */
export function HubBuildSteps({ label, transfer }: { label: string; transfer: TransferState }) {
  const current = stepIndex(transfer.stage);
  const note = downloadNote(transfer);
  const isRunning = transfer.status === 'running';
  const stateOf = (index: number) => {
    const together = current >= 1 && current <= 2 && index >= 1 && index <= 2 && transfer.stage !== 'store';
    if (index < current && !together) return 'done';
    if (index === current || together)
      return isRunning ? 'active' : transfer.status === 'error' ? 'failed' : 'paused';
    return 'waiting';
  };
  return (
    <div className="hub-steps">
      <ol className="hub-steps__list">
        {STEPS.map((step, index) => {
          const state = stateOf(index);
          return (
            <li
              key={step.key}
              className={`hub-steps__step hub-steps__step--${state}`}
              data-step={step.key}
              data-state={state}
              aria-current={state === 'active' ? 'step' : undefined}
            >
              <span aria-hidden="true">
                {{ done: '✓', active: '●', failed: '✕', paused: '‖', waiting: '○' }[state]}
              </span>{' '}
              {step.name}
              <span className="visually-hidden">
                {
                  {
                    done: ' (done)',
                    active: ' (running)',
                    failed: ' (failed)',
                    paused: ' (stopped)',
                    waiting: '',
                  }[state]
                }
              </span>
            </li>
          );
        })}
      </ol>
      {isRunning && (
        <ProgressBar
          label={label}
          percent={percentOf(transfer.loaded, transfer.total)}
          text={detail(transfer)}
        />
      )}
      {isRunning && note && (
        <p className="hub-steps__note" role="status">
          {note}
        </p>
      )}
    </div>
  );
}
