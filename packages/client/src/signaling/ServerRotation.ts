/**
 * Which server URL the signaling connection uses next. `serverUrl` may list several nodes of one
 * cluster (SPEC §8): the engine starts at a random one, so many clients spread over the nodes,
 * and moves on to the next whenever a connection cannot be made or is lost. Any node can resume a
 * session, so the order after the start does not matter; it only has to reach every node.
 * @packageDocumentation
 */
import { CallEngineError } from '../errors.js';

/** A ring of signaling URLs with a cursor. */
export class ServerRotation {
  readonly #urls: readonly string[];
  #index: number;

  /**
   * @param urls at least one URL, in the order failover walks them
   * @param random start-position source (tests pass a fixed one)
   */
  constructor(urls: readonly string[], random: () => number = Math.random) {
    if (urls.length === 0) throw CallEngineError.invalidParameter('serverUrl must name at least one server');
    this.#urls = [...urls];
    this.#index = Math.min(urls.length - 1, Math.floor(random() * urls.length));
  }

  /** How many URLs the ring holds. */
  get size(): number {
    return this.#urls.length;
  }

  /** The URL the next connection attempt uses. */
  get current(): string {
    return this.#urls[this.#index] as string;
  }

  /** Moves the cursor to the next URL (wrapping) and returns it. */
  advance(): string {
    this.#index = (this.#index + 1) % this.#urls.length;
    return this.current;
  }

  /**
   * One pass over the ring: runs `attempt` on the current URL and, each time it fails with an
   * error `retryable` accepts, on the next one, until one succeeds (the cursor stays on it) or
   * every URL failed once (the last error is thrown; the cursor is back where it started). An
   * error `retryable` refuses (a UserSig the server rejected, the client closed) is thrown at once:
   * another node would refuse it too.
   */
  async round<T>(attempt: (url: string) => Promise<T>, retryable: (err: unknown) => boolean): Promise<T> {
    let last: unknown;
    for (let i = 0; i < this.#urls.length; i++) {
      try {
        return await attempt(this.current);
      } catch (err) {
        if (!retryable(err)) throw err;
        last = err;
        this.advance();
      }
    }
    throw last;
  }
}
