/**
 * Runs async tasks one at a time, in call order. onnxruntime-web cannot run two inferences at once on a session
 * ("Session already started"), and its WebAssembly runtime is shared, so every `session.run` and `release` of the
 * engine goes through one queue.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Resolves with `task`'s result once every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(task, task).finally(() => {
      this.pending--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** True when no task is running or waiting. */
  get isIdle(): boolean {
    return this.pending === 0;
  }
}
