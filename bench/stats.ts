/** Small statistics for timings. */
import type { TimedRuns } from './protocol';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarizeRuns(ms: number[]): TimedRuns {
  return { ms, medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms) };
}

/** Runs `task` `count` times in a row and returns each run's milliseconds. */
export async function timeRuns(count: number, task: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await task();
    ms.push(performance.now() - started);
  }
  return ms;
}
