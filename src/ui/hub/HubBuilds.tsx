import { HUB_BUILDS, type HubBuildEntry } from '../../state/catalog';
import { buildFromOfficialWeights, setHubServer } from '../../state/modelTransfers';
import { CancelBuildButton } from './CancelBuildButton';
import type { TransferState } from '../../state/storageSlice';
import { useLensStore } from '../../state/store';
import type { IncompleteDownloadInfo, StoredModelInfo } from '../../core/protocol';
import { formatBytes } from '../../core/format';
import { HubBuildSteps } from './HubBuildSteps';
import { SemanticWarning } from './SemanticWarning';
import { TransferError } from '../models/TransferError';
import { UrlSetting } from '../models/UrlSetting';
import { useOnline } from '../shell/useOnline';

/** Where the build keeps the checkpoint while it works (see checkpointStoreId in src/engine/hub). */
const checkpointFolder = (id: string) => `${id}--checkpoint`;

function HubBuildRow({
  entry,
  stored,
  kept,
  transfer,
}: {
  entry: HubBuildEntry;
  stored: StoredModelInfo | null;
  kept: IncompleteDownloadInfo | null;
  transfer: TransferState | null;
}) {
  const isRunning = transfer?.status === 'running';
  const isOnline = useOnline();
  const title = `${entry.name} (from the official weights, ${formatBytes(entry.downloadBytes)} download)`;
  // Resume only what storage really kept; a build that stored nothing of the checkpoint starts again.
  const keptBytes = kept?.bytes ?? 0;
  const resumable = keptBytes > 0;
  const stopped = transfer !== null && (transfer.status === 'cancelled' || transfer.status === 'error');
  return (
    <li className="model-row" data-testid="hub-build" data-model-id={entry.id}>
      <div className="model-row__head">
        <h3 className="model-row__name">{title}</h3>
        {stored && <span className="model-row__badge model-row__badge--quiet">Built</span>}
      </div>
      <p className="model-row__facts">
        {[
          `Source: huggingface.co/${entry.hubRepo} (${entry.hubFile})`,
          `Licence: ${entry.license}`,
          entry.imagenetTop1 !== null
            ? `ImageNet zero-shot ${entry.imagenetTop1.toFixed(1)}% (published)`
            : null,
        ]
          .filter(Boolean)
          .join(' · ')}
      </p>
      <p className="model-row__facts muted">
        Builds int8 (WASM) and 4-bit (WebGPU) in this browser: {formatBytes(entry.builtBytes)} stored. The
        checkpoint is deleted once the model passes its check.
      </p>
      {stored && <SemanticWarning manifest={stored.manifest} />}
      {transfer && (transfer.kind === 'build' || isRunning) && (
        <HubBuildSteps label={`Building ${entry.name}`} transfer={transfer} />
      )}
      {transfer && !isRunning && <TransferError transfer={transfer} keptBytes={keptBytes} />}
      <div className="model-row__actions">
        {isRunning ? (
          <CancelBuildButton id={entry.id} name={entry.name} />
        ) : (
          (!stored || resumable) &&
          (isOnline ? (
            <button
              type="button"
              className="button button--small"
              aria-label={`${resumable ? 'Resume building' : stopped ? 'Try again to build' : 'Build'} ${entry.name}`}
              onClick={() => void buildFromOfficialWeights(entry)}
            >
              {resumable
                ? `Resume (${formatBytes(keptBytes)} kept)`
                : stopped
                  ? 'Try again'
                  : 'Download and build'}
            </button>
          ) : (
            <span className="muted">Building needs a connection to the model hub.</span>
          ))
        )}
        {stored && !isRunning && <span className="muted">Stored as “{stored.name}” above.</span>}
      </div>
    </li>
  );
}

/** The hub official weights come from (Hugging Face, or a mirror with the same URL layout). */
function HubAddressSetting() {
  const saved = useLensStore((state) => state.hubBaseUrl);
  return (
    <UrlSetting
      label="Model hub"
      saved={saved}
      placeholder="https://huggingface.co"
      buttonText="Save hub"
      onSave={setHubServer}
    />
  );
}

/** Real EVA-CLIP with no server of our own: the official checkpoints, converted and quantized in this browser. */
export function HubBuilds({
  stored,
  incomplete,
}: {
  stored: Map<string, StoredModelInfo>;
  incomplete: Map<string, IncompleteDownloadInfo>;
}) {
  const transfers = useLensStore((state) => state.transfers);
  return (
    <section className="models-section" aria-labelledby="hub-builds-title">
      <h3 id="hub-builds-title">From the official weights</h3>
      <p className="muted">
        Downloads the published checkpoint from the model hub and turns it into a quantized ONNX model here,
        with no other software. The download resumes where it stopped; a failed build keeps the model you use
        now.
      </p>
      <ul className="model-list">
        {HUB_BUILDS.map((entry) => (
          <HubBuildRow
            key={entry.id}
            entry={entry}
            stored={stored.get(entry.id) ?? null}
            kept={incomplete.get(checkpointFolder(entry.id)) ?? null}
            transfer={transfers[entry.id] ?? null}
          />
        ))}
      </ul>
      <HubAddressSetting />
    </section>
  );
}
