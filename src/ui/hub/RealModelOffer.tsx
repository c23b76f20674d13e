import { useEffect } from 'react';
import { buildTimeText, suggestedHubBuild } from '../../state/catalog';
import { getModelFromOfficialWeights, switchModel } from '../../state/engineBridge';
import { refreshStorage } from '../../state/modelTransfers';
import { CancelBuildButton } from './CancelBuildButton';
import { useLensStore } from '../../state/store';
import { formatBytes } from '../../core/format';
import { HubBuildSteps } from './HubBuildSteps';
import { TransferError } from '../models/TransferError';
import { useOnline } from '../shell/useOnline';

/**
 * The one action from the demo to a real EVA-CLIP: build the suggested model from the official weights in this
 * browser, then use it. While it runs: its steps, progress and Cancel; if it stops: why, and the same button again.
 * `where` keeps the accessible names apart when the note and the Models dialog both show it.
 */
export function RealModelOffer({ where }: { where: 'note' | 'models' }) {
  const entry = suggestedHubBuild();
  const transfer = useLensStore((state) => (entry ? (state.transfers[entry.id] ?? null) : null));
  const activeModelId = useLensStore((state) => state.activeModelId);
  const stored = useLensStore((state) =>
    entry ? (state.storageReport?.models.find((model) => model.id === entry.id) ?? null) : null,
  );
  const hasReport = useLensStore((state) => state.storageReport !== null);
  const isOnline = useOnline();

  useEffect(() => {
    // Whether it is built already decides the button; the page has not listed storage before Models opens.
    if (!hasReport) void refreshStorage();
  }, [hasReport]);

  if (!entry || activeModelId === entry.id) return null;
  const isRunning = transfer?.status === 'running';
  if (where === 'models' && transfer) {
    // In Models the build's own row below shows its steps, progress, Cancel and any failure; once is enough.
    return (
      <p className="muted" data-testid={`real-model-offer-${where}`}>
        {entry.name}: {isRunning ? 'building' : 'stopped'} — see “From the official weights” below.
      </p>
    );
  }
  const time = entry.measuredBuild ? `, ${buildTimeText(entry.measuredBuild)}` : '';
  const text = `Get ${entry.name} — ${formatBytes(entry.downloadBytes)} download, built in this browser${time}`;

  return (
    <div className="real-model" data-testid={`real-model-offer-${where}`}>
      {isRunning ? (
        <div className="real-model__running">
          <HubBuildSteps label={`Building ${entry.name}`} transfer={transfer} />
          <CancelBuildButton id={entry.id} name={entry.name} />
        </div>
      ) : stored ? (
        <button
          type="button"
          className="button button--primary real-model__button"
          onClick={() => void switchModel(entry.id)}
        >
          Use {stored.name} (built in this browser)
        </button>
      ) : !isOnline ? (
        <p className="muted">
          Getting {entry.name} needs a connection (a {formatBytes(entry.downloadBytes)} download).
        </p>
      ) : (
        <>
          <button
            type="button"
            className="button button--primary real-model__button"
            onClick={() => void getModelFromOfficialWeights(entry)}
          >
            {text}
          </button>
          {transfer && <TransferError transfer={transfer} />}
        </>
      )}
      {entry.measuredBuild && !isRunning && !stored && isOnline && (
        <p className="real-model__source muted" title={entry.measuredBuild.source}>
          The time is the build after the download, measured on {entry.measuredBuild.machine}; the download
          takes as long as your connection needs.
        </p>
      )}
    </div>
  );
}
