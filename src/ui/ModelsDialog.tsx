import { useEffect, useRef, type DragEvent } from 'react';
import type { Backend } from '../engine/manifest';
import type { CatalogEntry } from '../state/catalog';
import { switchModel } from '../state/engineBridge';
import { deleteStoredModel, importModelFolder, refreshCatalog, refreshStorage } from '../state/modelLibrary';
import { useLensStore } from '../state/store';
import type { StoredModelInfo } from '../worker/protocol';
import { collectPathedFiles, hasFiles } from './collectFiles';
import { EmbeddingCacheLine } from './EmbeddingCacheLine';
import { ForgetEverything } from './ForgetEverything';
import { HubBuilds } from './HubBuilds';
import { ImportModel } from './ImportModel';
import { ModelRow } from './ModelRow';
import { ModelServerSetting } from './ModelServerSetting';
import { StorageLine } from './StorageLine';

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
