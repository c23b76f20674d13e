/**
 * Runs async tasks one at a time, in call order. onnxruntime-web cannot run two inferences at once on a session
 * ("Session already started"), and its WebAssembly runtime is shared, so every `session.run` and `release` of the
 * engine goes through one queue.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Resolves with `task`'s result once every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
