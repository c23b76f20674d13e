import { useLensStore } from '../../state/store';
import { formatBytes } from '../../core/format';

/** How much the stored models take, how much the browser allows, where they live, and whether they are kept. */
export function StorageLine() {
  const report = useLensStore((state) => state.storageReport);
  const persisted = useLensStore((state) => state.storagePersisted);
  if (!report) return <p className="storage-line muted">Storage: reading…</p>;
  const used = report.models.reduce((sum, model) => sum + model.bytes, 0);
  const parts = [
    `Storage: ${formatBytes(used)} in ${report.models.length} stored ${report.models.length === 1 ? 'model' : 'models'}`,
  ];
  if (report.quota !== null && report.usage !== null)
    parts.push(`${formatBytes(Math.max(0, report.quota - report.usage))} available`);
  parts.push(report.kind === 'memory' ? 'memory only (lost when the page closes)' : report.kind);
  if (persisted === true) parts.push('kept (persistent)');
  if (persisted === false) parts.push('the browser may clear it when space runs low');
  return <p className="storage-line muted">{parts.join(' · ')}</p>;
}
