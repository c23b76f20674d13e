import type { TransferState } from '../state/modelLibrarySlice';
import { formatDuration, formatSize } from './format';

const STAGE_TEXT: Record<TransferState['stage'], string> = {
  manifest: 'Reading the manifest…',
  download: '',
  verify: 'Checking sha256…',
  store: 'Storing…',
  convert: 'Converting…',
  quantize: 'Quantizing…',
};

/** A download or import under way: bar, bytes, speed and time left. */
export function TransferProgress({ label, transfer }: { label: string; transfer: TransferState }) {
  const percent =
    transfer.total > 0 ? Math.min(100, Math.floor((transfer.loaded / transfer.total) * 100)) : 0;
  const parts = [
    transfer.total > 0
      ? `${formatSize(transfer.loaded)} of ${formatSize(transfer.total)}`
      : STAGE_TEXT.manifest,
  ];
  if (transfer.bytesPerSecond > 0) parts.push(`${formatSize(transfer.bytesPerSecond)}/s`);
  if (transfer.secondsLeft !== null && transfer.bytesPerSecond > 0)
    parts.push(`${formatDuration(transfer.secondsLeft)} left`);
  if (transfer.total > 0 && STAGE_TEXT[transfer.stage]) parts.push(STAGE_TEXT[transfer.stage]);
  return (
    <div className="transfer">
      <div
        className="transfer__bar"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div className="transfer__fill" style={{ width: `${percent}%` }} />
      </div>
      <p className="transfer__text" aria-live="polite">
        {parts.join(' · ')}
      </p>
    </div>
  );
}
