/**
 * Runs named operations one at a time, in the order they were asked for, and refuses a name that is
 * already queued or running. This is how every public engine method gets the contract's two rules:
 * the same method twice → rejected at once; different methods → queued (`calls()` then `hangup()`
 * cancels cleanly because hangup runs after calls has its callId).
 * @packageDocumentation
 */

/** Builds the error for a refused duplicate (the engine passes -1204 CallEngineError). */
export type BusyErrorFactory = (key: string) => Error;

/** A FIFO of named async tasks; at most one task per key may be pending. */
export class SerialQueue {
  /** Settles when the last queued task has settled (never rejects). */
  #tail: Promise<void> = Promise.resolve();
  readonly #pending = new Set<string>();
  readonly #busy: BusyErrorFactory;

  /** @param busy builds the rejection for a key that is already queued or running. */
  constructor(busy: BusyErrorFactory) {
    this.#busy = busy;
  }

  /**
   * Queues `task` under `key`. Rejects at once (without queueing) when a task with the same key is
   * still queued or running; otherwise resolves or rejects with the task's own outcome.
   */
  run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    if (this.#pending.has(key)) return Promise.reject(this.#busy(key));
    this.#pending.add(key);
    const result = this.#tail.then(() => task());
    // The tail swallows the outcome: one failed task must not stop the ones queued after it.
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => this.#pending.delete(key));
  }

  /** True when a task with `key` is queued or running. */
  isPending(key: string): boolean {
    return this.#pending.has(key);
  }

  /** Number of tasks queued or running. */
  get size(): number {
    return this.#pending.size;
  }
}
