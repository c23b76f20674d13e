import type { TransferState } from '../../state/storageSlice';
import { formatBytes } from '../../core/format';

/** What a stopped download or build says about the bytes storage kept (when the caller knows them). */
function cancelledText(kind: TransferState['kind'], keptBytes: number | undefined): string {
  if (kind !== 'download' && kind !== 'build') return 'Import cancelled.';
  const what = kind === 'download' ? 'Download paused.' : 'Build stopped.';
  if (keptBytes === 0) return `${what} Nothing had arrived yet, so it starts from the beginning next time.`;
  const kept = keptBytes === undefined ? '' : ` (${formatBytes(keptBytes)})`;
  return kind === 'download'
    ? `${what} What arrived${kept} is kept; resume any time.`
    : `${what} The downloaded part of the checkpoint${kept} is kept; resume any time.`;
}

/**
 * Why a download or import stopped, in words a person can act on. `keptBytes`: what storage holds of it now, when
 * the caller knows (a cancel that came before the first byte keeps nothing, and must not promise a resume).
 */
export function TransferError({ transfer, keptBytes }: { transfer: TransferState; keptBytes?: number }) {
  if (transfer.status === 'cancelled') {
    return <p className="transfer__note">{cancelledText(transfer.kind, keptBytes)}</p>;
  }
  if (transfer.status !== 'error' || !transfer.error) return null;
  const isFull = transfer.errorName === 'StorageFullError';
  return (
    <p className="transfer__error" role="alert">
      {transfer.error}
      {isFull && ' Your other stored models are intact.'}
      {transfer.kind === 'build' && !isFull && ' The model you were using is still in use.'}
    </p>
  );
}
