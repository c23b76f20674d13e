import { useEffect, useRef, type DragEvent } from 'react';
import type { Backend } from '../../core/manifest';
import { hubBuildFor, type CatalogEntry, type HubBuildEntry } from '../../state/catalog';
import type { HostingReport } from '../../state/hostedModels';
import { switchModel } from '../../state/engineBridge';
import {
  deleteStoredModel,
  importModelFolder,
  refreshCatalog,
  refreshStorage,
} from '../../state/modelTransfers';
import { useLensStore } from '../../state/store';
import type { StoredModelInfo } from '../../core/protocol';
import { collectPathedFiles, hasFiles } from '../images/collectFiles';
import { EmbeddingCacheLine } from './EmbeddingCacheLine';
import { ForgetEverything } from './ForgetEverything';
import { HubBuilds } from '../hub/HubBuilds';
import { ImportModel } from './ImportModel';
import { ModelRow, type RowHosting } from './ModelRow';
import { ModelServerSetting } from './ModelServerSetting';
import { RealModelOffer } from '../hub/RealModelOffer';
import { StorageLine } from './StorageLine';
import { useModelVocabulary } from '../labels/useModelVocabulary';
import { vocabularySummary } from '../../state/vocabulary';

/** A stored model the catalog does not list (imported, or from an earlier server) still gets a row. */
function entryFromStored(model: StoredModelInfo): CatalogEntry {
  return {
    id: model.id,
    name: model.name,
    architecture: model.manifest.architecture,
    paramsM: null,
    imagenetTop1: null,
    qualitySource: model.manifest.description || 'Imported model.',
    license: model.manifest.license || 'see its manifest',
    sourceUrl: model.manifest.source || null,
    speed: 'Not measured here.',
    variants: model.dtypes.map((dtype) => ({
      dtype,
      bytes: model.bytes,
      measured: true,
      backends: ['wasm'],
    })),
    embedded: false,
  };
}

function hostingOf(entry: CatalogEntry, report: HostingReport | null, baseUrl: string): RowHosting {
  if (entry.embedded) return 'hosted';
  if (!report || report.baseUrl !== baseUrl) return 'checking';
  if (report.offline) return 'offline';
  return report.byId[entry.id] ?? 'checking';
}

/** Brings the hub build row of `build` into view and onto its button (the road when no server hosts the model). */
function pointToBuild(build: HubBuildEntry): void {
  const row = document.querySelector<HTMLElement>(`[data-testid="hub-build"][data-model-id="${build.id}"]`);
  row?.scrollIntoView({ behavior: 'smooth', block: 'center' });
  row?.querySelector<HTMLButtonElement>('.model-row__actions button')?.focus({ preventScroll: true });
}

/** What "Build from the official weights" on a row does: point to that architecture's hub build, if there is one. */
function buildOf(entry: CatalogEntry): (() => void) | null {
  const build = hubBuildFor(entry);
  return build ? () => pointToBuild(build) : null;
}

/** The model in use, from its manifest, and (on the demo) the one action to a real model. */
function ModelInUse() {
  const manifest = useLensStore((state) => state.model?.manifest ?? null);
  const known = useModelVocabulary();
  if (!manifest) return null;
  return (
    <section className="models-dialog__model-in-use" data-testid="model-in-use">
      <p>
        <strong>In use: {manifest.name}</strong>
        {known ? ` — ${vocabularySummary(known.vocabulary)}.` : ''}
      </p>
      {manifest.description && <p className="muted">{manifest.description}</p>}
      {known && <RealModelOffer where="models" />}
    </section>
  );
}

/** One sentence instead of a failure per row when the server cannot be asked. */
function ConnectionLine({ report, baseUrl }: { report: HostingReport | null; baseUrl: string }) {
  if (!report || report.baseUrl !== baseUrl) return null;
  if (report.offline) {
    return (
      <p className="models-dialog__offline" role="status">
        You are offline: downloads and builds need a connection. Stored models work as usual.
      </p>
    );
  }
  if (report.unreachable) {
    return (
      <p className="models-dialog__offline" role="status">
        The model server {baseUrl} did not answer (no connection, or it does not allow this page), so its
        models cannot be downloaded now. Stored models work as usual.
      </p>
    );
  }
  return null;
}

function useStableBackend(): Backend {
  const loaded = useLensStore((state) => state.model?.backend);
  const preference = useLensStore((state) => state.backendPreference);
  return loaded ?? (preference === 'webgpu' ? 'webgpu' : 'wasm');
}

/** The model picker: catalog, stored models, downloads, import, server and storage. */
export function ModelsDialog({ onClose }: { onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const catalog = useLensStore((state) => state.catalog);
  const report = useLensStore((state) => state.storageReport);
  const transfers = useLensStore((state) => state.transfers);
  const activeModelId = useLensStore((state) => state.activeModelId);
  const hosting = useLensStore((state) => state.hosting);
  const baseUrl = useLensStore((state) => state.modelBaseUrl);
  const backend = useStableBackend();

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal?.();
    void refreshStorage();
    void refreshCatalog();
    return () => element?.close?.();
  }, []);

  const stored = new Map((report?.models ?? []).map((model) => [model.id, model]));
  const incomplete = new Map((report?.incomplete ?? []).map((item) => [item.modelId, item]));
  const listed = new Set(catalog.map((entry) => entry.id));
  const entries = [
    ...catalog,
    ...(report?.models ?? []).filter((m) => !listed.has(m.id)).map(entryFromStored),
  ];

  const onDragOver = (event: DragEvent) => {
    if (!hasFiles(event.dataTransfer)) return;
    event.preventDefault();
    event.stopPropagation();
  };
  const onDrop = (event: DragEvent) => {
    if (!hasFiles(event.dataTransfer)) return;
    event.preventDefault();
    event.stopPropagation();
    void collectPathedFiles(event.dataTransfer).then(async (files) => {
      if (files.length > 0) await importModelFolder(files);
    });
  };

  return (
    <dialog
      ref={dialog}
      className="models-dialog"
      aria-labelledby="models-dialog-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onDragOver={onDragOver}
      onDrop={onDrop}
    >
      <div className="models-dialog__head">
        <h2 id="models-dialog-title">Models</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      <ModelInUse />
      <ConnectionLine report={hosting} baseUrl={baseUrl} />
      <p className="muted models-dialog__intro">
        Models run on this device. A downloaded model is checked against its manifest, kept in this browser,
        and works offline from then on.
      </p>
      <ul className="model-list">
        {entries.map((entry) => (
          <ModelRow
            key={entry.id}
            entry={entry}
            stored={stored.get(entry.id) ?? null}
            incomplete={stored.has(entry.id) ? null : (incomplete.get(entry.id) ?? null)}
            transfer={transfers[entry.id] ?? null}
            isActive={entry.id === activeModelId}
            backend={backend}
            hosting={hostingOf(entry, hosting, baseUrl)}
            onBuild={buildOf(entry)}
            onUse={(id) => void switchModel(id)}
            onDelete={(id) => void deleteStoredModel(id, switchModel)}
          />
        ))}
      </ul>
      <HubBuilds stored={stored} incomplete={incomplete} />
      <ImportModel />
      <ModelServerSetting />
      <StorageLine />
      <EmbeddingCacheLine />
      <ForgetEverything />
    </dialog>
  );
}
