import { useState } from 'react';
import type { Backend, Dtype } from '../engine/manifest';
import { bestVariantFor, type CatalogEntry } from '../state/catalog';
import { cancelTransfer, downloadCatalogModel } from '../state/modelLibrary';
import type { TransferState } from '../state/modelLibrarySlice';
import type { IncompleteDownloadInfo, StoredModelInfo } from '../worker/protocol';
import { formatSize } from './format';
import { TransferError } from './TransferError';
import { TransferProgress } from './TransferProgress';

interface ModelRowProps {
  entry: CatalogEntry;
  stored: StoredModelInfo | null;
  incomplete: IncompleteDownloadInfo | null;
  transfer: TransferState | null;
  isActive: boolean;
  backend: Backend;
  onUse(id: string): void;
  onDelete(id: string): void;
}

function qualityText(entry: CatalogEntry): string {
  return entry.imagenetTop1 !== null
    ? `ImageNet zero-shot ${entry.imagenetTop1.toFixed(1)}% (published)`
    : entry.qualitySource;
}

/** One model of the catalog: what it is, how big and fast, and what can be done with it here. */
export function ModelRow({
  entry,
  stored,
  incomplete,
  transfer,
  isActive,
  backend,
  onUse,
  onDelete,
}: ModelRowProps) {
  const [dtype, setDtype] = useState<Dtype>(
    () => bestVariantFor(entry, backend)?.dtype ?? entry.variants[0]!.dtype,
  );
  const [isConfirmingDelete, setIsConfirmingDelete] = useState(false);
  const variant = entry.variants.find((v) => v.dtype === dtype) ?? entry.variants[0]!;
  const isRunning = transfer?.status === 'running';
  const isUsable = entry.embedded || stored !== null;
  const name = entry.name;

  return (
    <li className="model-row" data-testid="model-row" data-model-id={entry.id}>
      <div className="model-row__head">
        <h3 className="model-row__name">{name}</h3>
        {isActive && <span className="model-row__badge">In use</span>}
        {!isActive && stored && <span className="model-row__badge model-row__badge--quiet">Stored</span>}
      </div>
      <p className="model-row__facts">
        {[
          entry.paramsM !== null ? `${entry.paramsM.toFixed(0)}M parameters` : null,
          qualityText(entry),
          `Licence: ${entry.license}`,
        ]
          .filter(Boolean)
          .join(' · ')}
      </p>
      <p className="model-row__facts muted">{entry.speed}</p>
      {stored && (
        <p className="model-row__facts muted">
          Stored: {stored.dtypes.join(', ')} · {formatSize(stored.bytes)}
        </p>
      )}
      {transfer && isRunning && <TransferProgress label={`Downloading ${name}`} transfer={transfer} />}
      {transfer && !isRunning && <TransferError transfer={transfer} />}
      <div className="model-row__actions">
        {!entry.embedded && !isRunning && (
          <>
            <select
              aria-label={`Variant for ${name}`}
              value={variant.dtype}
              onChange={(event) => setDtype(event.target.value as Dtype)}
            >
              {entry.variants.map((v) => (
                <option key={v.dtype} value={v.dtype}>
                  {v.dtype} · {v.measured ? '' : 'about '}
                  {formatSize(v.bytes)}
                  {v.backends[0] === backend ? ' · best here' : ''}
                </option>
              ))}
            </select>
            {incomplete || transfer?.status === 'cancelled' || transfer?.status === 'error' ? (
              <button
                type="button"
                className="button button--small"
                aria-label={`Resume download of ${name}`}
                onClick={() => void downloadCatalogModel(entry.id, variant.dtype)}
              >
                Resume{incomplete ? ` (${formatSize(incomplete.bytes)} kept)` : ''}
              </button>
            ) : (
              !stored?.dtypes.includes(variant.dtype) && (
                <button
                  type="button"
                  className="button button--small"
                  aria-label={`Download ${name}`}
                  onClick={() => void downloadCatalogModel(entry.id, variant.dtype)}
                >
                  Download
                </button>
              )
            )}
          </>
        )}
        {isRunning && (
          <button
            type="button"
            className="button button--small"
            aria-label={`Cancel download of ${name}`}
            onClick={() => cancelTransfer(entry.id)}
          >
            Cancel
          </button>
        )}
        {isUsable && !isActive && (
          <button
            type="button"
            className="button button--small button--primary"
            aria-label={`Use ${name}`}
            onClick={() => onUse(entry.id)}
          >
            Use
          </button>
        )}
        {stored &&
          !entry.embedded &&
          (isConfirmingDelete ? (
            <span className="model-row__confirm">
              Delete {formatSize(stored.bytes)}?
              <button
                type="button"
                className="button button--small button--danger"
                onClick={() => {
                  setIsConfirmingDelete(false);
                  onDelete(entry.id);
                }}
              >
                Delete
              </button>
              <button
                type="button"
                className="button button--small button--quiet"
                onClick={() => setIsConfirmingDelete(false)}
              >
                Keep
              </button>
            </span>
          ) : (
            <button
              type="button"
              className="button button--small button--quiet"
              aria-label={`Delete ${name}`}
              onClick={() => setIsConfirmingDelete(true)}
            >
              Delete
            </button>
          ))}
      </div>
    </li>
  );
}
