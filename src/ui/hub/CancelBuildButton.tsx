import { cancelTransfer } from '../../state/modelTransfers';

/** Stops a running hub build (the downloaded part of the checkpoint is kept); shown in its row and in the note. */
export function CancelBuildButton({ id, name }: { id: string; name: string }) {
  return (
    <button
      type="button"
      className="button button--small"
      aria-label={`Cancel building ${name}`}
      onClick={() => cancelTransfer(id)}
    >
      Cancel
    </button>
  );
}
