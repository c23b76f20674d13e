/** How numbers read on the page and in the engine's messages: one byte unit convention (decimal), one of each. */
import type { Backend } from './manifest';

const BACKEND_NAMES: Record<Backend, string> = { webgpu: 'WebGPU', wasm: 'WASM' };

export function backendName(backend: Backend): string {
  return BACKEND_NAMES[backend];
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

/** Bytes as people read them: '812 bytes', '4.2 MB', '1.31 GB' (decimal units, as browsers and disks report). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.max(0, Math.round(bytes))} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** Time left as people say it: '12 s', '3 min', '1 h 5 min'. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
