import type { TransferState } from '../state/modelLibrarySlice';

/** Why a download or import stopped, in words a person can act on. */
export function TransferError({ transfer }: { transfer: TransferState }) {
  if (transfer.status === 'cancelled') {
    return (
      <p className="transfer__note">
        {transfer.kind === 'download'
          ? 'Download paused. What arrived is kept; resume any time.'
          : transfer.kind === 'build'
            ? 'Build stopped. The downloaded part of the checkpoint is kept; resume any time.'
            : 'Import cancelled.'}
      </p>
    );
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
