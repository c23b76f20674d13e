import type { TransferState } from '../../state/storageSlice';
import { formatDuration, formatBytes } from '../../core/format';
import { ProgressBar, percentOf } from '../shell/ProgressBar';

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
  const percent = percentOf(transfer.loaded, transfer.total);
  const parts = [
    transfer.total > 0
      ? `${formatBytes(transfer.loaded)} of ${formatBytes(transfer.total)}`
      : STAGE_TEXT.manifest,
  ];
  if (transfer.bytesPerSecond > 0) parts.push(`${formatBytes(transfer.bytesPerSecond)}/s`);
  if (transfer.secondsLeft !== null && transfer.bytesPerSecond > 0)
    parts.push(`${formatDuration(transfer.secondsLeft)} left`);
  if (transfer.total > 0 && STAGE_TEXT[transfer.stage]) parts.push(STAGE_TEXT[transfer.stage]);
  return (
    <div className="transfer">
      <ProgressBar label={label} percent={percent} text={parts.join(' · ')} />
    </div>
  );
}
