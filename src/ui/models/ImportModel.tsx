import { useRef, type ChangeEvent } from 'react';
import { IMPORT_KEY, cancelTransfer, importModelFolder } from '../../state/modelTransfers';
import { useLensStore } from '../../state/store';
import { TransferError } from './TransferError';
import { TransferProgress } from './TransferProgress';

/**
 * Import of a folder written by `npm run models -- convert`: pick it here or drop it on the dialog. The worker checks
 * every file against the manifest's sizes and sha256 before anything is stored.
 */
export function ImportModel() {
  const input = useRef<HTMLInputElement>(null);
  const transfer = useLensStore((state) => state.transfers[IMPORT_KEY] ?? null);
  const isRunning = transfer?.status === 'running';

  const onPick = (event: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(event.target.files ?? [], (file) => ({
      path: file.webkitRelativePath || file.name,
      file,
    }));
    event.target.value = '';
    if (files.length > 0) void importModelFolder(files);
  };

  return (
    <section className="models-section" aria-label="Import a model">
      <div className="models-section__row">
        <button
          type="button"
          className="button button--small"
          disabled={isRunning}
          onClick={() => input.current?.click()}
        >
          Import a converted model…
        </button>
        <span className="muted">or drop its folder here (manifest.json + ONNX files)</span>
        {isRunning && (
          <button
            type="button"
            className="button button--small button--quiet"
            onClick={() => cancelTransfer(IMPORT_KEY)}
          >
            Cancel import
          </button>
        )}
      </div>
      <input
        ref={input}
        type="file"
        hidden
        multiple
        aria-label="Import model folder"
        onChange={onPick}
        {...{ webkitdirectory: '' }}
      />
      {transfer && isRunning && <TransferProgress label="Importing model" transfer={transfer} />}
      {transfer && !isRunning && <TransferError transfer={transfer} />}
    </section>
  );
}
