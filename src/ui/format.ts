/** Small text formatters shared by the components. */
import type { Backend } from '../engine/manifest';

const BACKEND_NAMES: Record<Backend, string> = { webgpu: 'WebGPU', wasm: 'WASM' };

export function backendName(backend: Backend): string {
  return BACKEND_NAMES[backend];
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** 0.873 → "87%", with one decimal below 10 % so small but non-zero probabilities do not read as 0. */
export function formatPercent(probability: number): string {
  const percent = probability * 100;
  if (percent >= 9.95) return `${percent.toFixed(0)}%`;
  if (percent >= 0.05) return `${percent.toFixed(1)}%`;
  return '<0.1%';
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

export function formatRate(perSecond: number): string {
  return perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(1);
}

/** Download and storage sizes in decimal units, as browsers and disks report them ('157.0 MB'). */
export { formatBytes as formatSize } from '../engine/modelStore';

/** Time left as people say it: '12 s', '3 min', '1 h 5 min'. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
