/** A FIFO async mutex: `run(fn)` executes one function at a time, in call order. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier `run` has settled; resolves with its result. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(fn, fn);
    // Keep the chain alive whatever `fn` does; callers see its own outcome through `result`.
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** One {@link Mutex} per key: functions of one key run one at a time, keys independently; idle keys are forgotten. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier `run` of `key` has settled; resolves with its result. */
  run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.#tails.size;
  }
}
