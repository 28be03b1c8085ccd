/**
 * The loop that drives a durable outbox (the webhook outbox, the push queue): run a pass when kicked
 * after a commit or every `pollIntervalMs` otherwise, never two passes at once, and a kick that
 * arrives during a pass runs one more pass right after it (kicks coalesce, none is lost). A pass
 * that throws is reported and the loop backs off to the next poll instead of spinning on a broken
 * database. What a pass does (scan due rows, start deliveries) belongs to its owner.
 */

/** Construction parameters of {@link OutboxPump}. */
export interface OutboxPumpOptions {
  /** One pass over the outbox. It may call {@link OutboxPump.again} to ask for another pass at once. */
  pass: () => Promise<void>;
  /** Time between passes without a kick, ms. */
  pollIntervalMs: number;
  /** A pass threw (logged by the owner); the next pass runs at the next poll. */
  onError: (err: unknown) => void;
}

/** Kick/poll loop of an outbox; see the file comment. */
export class OutboxPump {
  readonly #o: OutboxPumpOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #rerun = false;
  #started = false;
  #closed = false;

  constructor(options: OutboxPumpOptions) {
    this.#o = { ...options, pollIntervalMs: Math.max(1, options.pollIntervalMs) };
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Starts the loop with a pass now (what a previous process left is handled first). Idempotent. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.kick();
  }

  /** Runs a pass now instead of at the next poll; cheap and safe to call often. */
  kick(): void {
    if (!this.#started || this.#closed) return;
    if (this.#running) {
      this.#rerun = true;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#running = this.#loop().finally(() => {
      this.#running = null;
      // A kick that landed after the loop's last check must not wait for the poll.
      if (this.#rerun) this.kick();
      else this.#schedule();
    });
  }

  /** From inside a pass: run another pass right after this one (e.g. to look wider). */
  again(): void {
    this.#rerun = true;
  }

  /** Stops polling and resolves once the running pass (if any) has returned. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** Passes until no kick arrived meanwhile. */
  async #loop(): Promise<void> {
    do {
      this.#rerun = false;
      try {
        await this.#o.pass();
      } catch (err) {
        this.#o.onError(err);
        this.#rerun = false;
        return;
      }
    } while (this.#rerun && !this.#closed);
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.kick();
    }, this.#o.pollIntervalMs);
    // The server's sockets keep the process alive; a pending poll alone should not.
    this.#timer.unref();
  }
}
