/**
 * Milliseconds per named step of a longer task (a model load: reading files, starting the runtime, each session,
 * the probe), so the app and the start-up benchmark can say where the time went. A step timed twice (a second
 * backend tried after the first failed) adds up.
 */
export class StageTimings {
  private readonly ms = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  async time<T>(stage: string, task: () => Promise<T>): Promise<T> {
    const started = this.now();
    try {
      return await task();
    } finally {
      this.add(stage, this.now() - started);
    }
  }

  add(stage: string, ms: number): void {
    this.ms.set(stage, (this.ms.get(stage) ?? 0) + ms);
  }

  /** Each step's milliseconds, rounded to 0.1 ms, in the order the steps first ran. */
  toRecord(): Record<string, number> {
    return Object.fromEntries([...this.ms].map(([stage, ms]) => [stage, Math.round(ms * 10) / 10]));
  }
}
