/**
 * One-shot waits for named events with a timeout, resolved with the time the event arrived
 * (performance.now(), taken inside the callback so awaiting adds no latency to the sample).
 */

interface Waiter {
  resolve(at: number): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Pending waits of one pair, keyed by `side:event`. */
export class Waiters {
  readonly #pending = new Map<string, Waiter>();

  /** Resolves with the arrival time of the next `key` event; rejects after `timeoutMs`. */
  expect(key: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        reject(new Error(`timeout waiting for ${key}`));
      }, timeoutMs);
      this.#pending.set(key, { resolve, reject, timer });
    });
  }

  /** An event arrived: resolves its waiter, if any. */
  fire(key: string): void {
    const w = this.#pending.get(key);
    if (!w) return;
    this.#pending.delete(key);
    clearTimeout(w.timer);
    w.resolve(performance.now());
  }

  /** Something went wrong: every pending wait rejects with `err`. */
  failAll(err: Error): void {
    for (const w of this.#pending.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.#pending.clear();
  }
}
