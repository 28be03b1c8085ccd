/**
 * A minimal typed event emitter with single-payload events and `on()` returning an unsubscribe
 * function. Listeners are isolated: one that throws is reported and the others still run, because
 * an application bug in one listener must never break the engine.
 * @packageDocumentation
 */

/** Removes the listener it was returned for; calling it twice is harmless. */
export type Unsubscribe = () => void;

/** Called when a listener throws; receives the event name, the error and the listener. */
export type ListenerErrorReporter = (name: string, error: unknown, listener: object) => void;

/** A listener of event `K` of map `M`. */
export type Listener<M, K extends keyof M> = (payload: M[K]) => void;

type AnyListener = (payload: unknown) => void;

/** Emitter over an event map `M` (event name → payload type). */
export class TypedEmitter<M extends { [K in keyof M]: unknown }> {
  readonly #listeners = new Map<keyof M, Set<AnyListener>>();
  readonly #report: ListenerErrorReporter;

  /** @param report receives listener failures; defaults to `console.error`. */
  constructor(report?: ListenerErrorReporter) {
    this.#report =
      report ?? ((name, error) => console.error(`[opencall] a listener of ${name} threw:`, error));
  }

  /** Adds `listener` for `name`; returns a function that removes it. */
  on<K extends keyof M>(name: K, listener: Listener<M, K>): Unsubscribe {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as AnyListener);
    return () => this.off(name, listener);
  }

  /** Adds a listener that removes itself after its first call. */
  once<K extends keyof M>(name: K, listener: Listener<M, K>): Unsubscribe {
    const off = this.on(name, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Removes `listener` from `name`. */
  off<K extends keyof M>(name: K, listener: Listener<M, K>): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    set.delete(listener as AnyListener);
    if (set.size === 0) this.#listeners.delete(name);
  }

  /** Calls every listener of `name` with `payload`, in the order they were added. */
  emit<K extends keyof M>(name: K, payload: M[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    // A copy, so listeners added or removed during the emit do not change this round.
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (error) {
        this.#report(String(name), error, listener);
      }
    }
  }

  /** Number of listeners of `name`. */
  listenerCount<K extends keyof M>(name: K): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  /** Removes every listener. */
  removeAllListeners(): void {
    this.#listeners.clear();
  }
}
