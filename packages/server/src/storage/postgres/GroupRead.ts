/**
 * Reads by key, gathered per event-loop turn: the `getCall`s (or `membershipsOf`s) a busy node's
 * commands issue in one turn go to PostgreSQL as one `= ANY($1)` statement instead of one each.
 * A read is sent after the turn that asked for it, so it sees at least everything committed
 * before it was asked (a node's own commits included): no staler than a read sent at once.
 */

/** Fetches the values of `keys` (each at most once); a key missing from the map has none. */
export type FetchMany<V> = (keys: string[]) => Promise<Map<string, V>>;

/** One gatherer of reads of one kind. */
export class GroupRead<V> {
  readonly #fetch: FetchMany<V>;
  readonly #missing: V;
  #waiting = new Map<string, { resolve: (v: V) => void; reject: (e: unknown) => void }[]>();
  #scheduled = false;

  /** `missing`: what a key the fetch did not return reads as (null, []). */
  constructor(fetch: FetchMany<V>, missing: V) {
    this.#fetch = fetch;
    this.#missing = missing;
  }

  /** The value of `key`, read with the other keys asked for in this turn. */
  get(key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const list = this.#waiting.get(key);
      if (list) list.push({ resolve, reject });
      else this.#waiting.set(key, [{ resolve, reject }]);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#send());
      }
    });
  }

  #send(): void {
    const waiting = this.#waiting;
    this.#waiting = new Map();
    this.#scheduled = false;
    this.#fetch([...waiting.keys()]).then(
      (found) => {
        for (const [key, list] of waiting) for (const w of list) w.resolve(found.has(key) ? found.get(key)! : this.#missing);
      },
      (err: unknown) => {
        for (const list of waiting.values()) for (const w of list) w.reject(err);
      },
    );
  }
}
