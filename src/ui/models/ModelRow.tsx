import { useState } from 'react';
import type { Backend, Dtype } from '../../core/manifest';
import { bestVariantFor, type CatalogEntry } from '../../state/catalog';
import { cancelTransfer, downloadCatalogModel } from '../../state/modelTransfers';
import { selectMeanImageMs } from '../../state/selectors';
import { useLensStore } from '../../state/store';
import type { Hosting } from '../../state/hostedModels';
import type { TransferState } from '../../state/storageSlice';
import type { IncompleteDownloadInfo, StoredModelInfo } from '../../core/protocol';
import { backendName, formatMs, formatBytes } from '../../core/format';
import { SemanticWarning } from '../hub/SemanticWarning';
import { TransferError } from './TransferError';
import { TransferProgress } from './TransferProgress';

interface ModelRowProps {
  entry: CatalogEntry;
  stored: StoredModelInfo | null;
  incomplete: IncompleteDownloadInfo | null;
  transfer: TransferState | null;
  isActive: boolean;
  backend: Backend;
  /** Whether the model server hosts it (asked when Models opens); only a hosted model offers Download. */
  hosting: RowHosting;
  /** Points to the hub build of the same architecture; null when there is none. */
  onBuild: (() => void) | null;
  onUse(id: string): void;
  onDelete(id: string): void;
}

/** What the model server said of this row's model: 'checking' until it answers, 'offline' when nothing was asked. */
export type RowHosting = 'checking' | 'offline' | Hosting;

function qualityText(entry: CatalogEntry): string {
  return entry.imagenetTop1 !== null
    ? `ImageNet zero-shot ${entry.imagenetTop1.toFixed(1)}% (published)`
    : entry.qualitySource;
}

/** The row of a model the server does not host: the road to build it, or why nothing is offered. */
function NotHosted({
  hosting,
  name,
  onBuild,
}: {
  hosting: RowHosting;
  name: string;
  onBuild: (() => void) | null;
}) {
  // Offline or an unreachable server: one sentence at the top of the dialog says so for every row.
  if (hosting === 'offline' || hosting === 'unreachable') return null;
  if (hosting === 'checking') return <span className="muted">Asking the model server…</span>;
  return onBuild ? (
    <button type="button" className="button button--small" onClick={onBuild}>
      Build {name} from the official weights
    </button>
  ) : (
    <span className="muted">Not on the model server.</span>
  );
}

/** One model of the catalog: what it is, how big and fast, and what can be done with it here. */
export function ModelRow({
  entry,
  stored,
  incomplete,
  transfer,
  isActive,
  backend,
  hosting,
  onBuild,
  onUse,
  onDelete,
}: ModelRowProps) {
  const [dtype, setDtype] = useState<Dtype>(
    () => bestVariantFor(entry, backend)?.dtype ?? entry.variants[0]!.dtype,
  );
  const [isConfirmingDelete, setIsConfirmingDelete] = useState(false);
  // One variant is the best on this backend (the first that lists it first), never several.
  const bestDtype = bestVariantFor(entry, backend)?.dtype ?? null;
  // The model in use has been timed on this device: that number, the status bar's, beats any catalog sentence.
  const measuredMs = useLensStore((state) => (isActive ? selectMeanImageMs(state) : null));
  const running = useLensStore((state) => state.model);
  const variant = entry.variants.find((v) => v.dtype === dtype) ?? entry.variants[0]!;
  const isRunning = transfer?.status === 'running';
  const isUsable = entry.embedded || stored !== null;
  // Resume only what storage really kept; a download that stored no bytes starts again.
  const keptBytes = incomplete?.bytes ?? 0;
  const canDownload = hosting === 'hosted';
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
      <p className="model-row__facts muted" data-testid="model-speed">
        {measuredMs !== null
          ? `Measured here: ${formatMs(measuredMs)} per image${running ? ` (${backendName(running.backend)} ${running.dtype})` : ''}.`
          : entry.speed}
      </p>
      {stored && (
        <p className="model-row__facts muted">
          Stored: {stored.dtypes.join(', ')} · {formatBytes(stored.bytes)}
        </p>
      )}
      {stored && <SemanticWarning manifest={stored.manifest} />}
      {transfer && isRunning && <TransferProgress label={`Downloading ${name}`} transfer={transfer} />}
      {transfer && !isRunning && <TransferError transfer={transfer} keptBytes={keptBytes} />}
      <div className="model-row__actions">
        {!entry.embedded && !isRunning && !canDownload && !stored && (
          <NotHosted hosting={hosting} name={name} onBuild={onBuild} />
        )}
        {!entry.embedded && !isRunning && canDownload && (
          <>
            <select
              aria-label={`Variant for ${name}`}
              value={variant.dtype}
              onChange={(event) => setDtype(event.target.value as Dtype)}
            >
              {entry.variants.map((v) => (
                <option key={v.dtype} value={v.dtype}>
                  {v.dtype} · {v.measured ? '' : 'about '}
                  {formatBytes(v.bytes)}
                  {v.dtype === bestDtype ? ' · best here' : ''}
                </option>
              ))}
            </select>
            {keptBytes > 0 ? (
              <button
                type="button"
                className="button button--small"
                aria-label={`Resume download of ${name}`}
                onClick={() => void downloadCatalogModel(entry.id, variant.dtype)}
              >
                Resume ({formatBytes(keptBytes)} kept)
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
              Delete {formatBytes(stored.bytes)}?
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
