/**
 * Puts a device's frames back in log order on the node holding its socket. Frames reach that node
 * two ways (the reply of its own append, and the inbox channel for appends made elsewhere), so they
 * can arrive out of order or, if a publish is lost, not at all: a gap is filled from the log.
 */
import type { LogItem } from './redis/RedisLive.js';

/** What the sink does with items in order. */
export interface SinkTarget {
  /** Sends an event frame to the socket. */
  send(frame: string): void;
  /** A close marker was reached: the device was signed out elsewhere. */
  closed(code: number): void;
  /** Reads the log after `seq` (gap fill). */
  fill(after: number): Promise<LogItem[]>;
}

/** How long a gap may stay open before the log is read. */
const GAP_WAIT_MS = 40;

/** One device's ordered delivery. */
export class DeviceSink {
  #next: number;
  readonly #held = new Map<number, LogItem>();
  #gapTimer: NodeJS.Timeout | null = null;
  #done = false;

  constructor(
    /** The last seq already delivered (or replayed) to the device. */
    delivered: number,
    private readonly target: SinkTarget,
  ) {
    this.#next = delivered + 1;
  }

  /** Highest seq delivered. */
  get delivered(): number {
    return this.#next - 1;
  }

  /** Offers an item; delivers it and any held successors when it is next. */
  offer(item: LogItem): void {
    if (this.#done || item.seq < this.#next) return;
    this.#held.set(item.seq, item);
    this.#drain();
    if (this.#held.size > 0 && !this.#gapTimer) {
      this.#gapTimer = setTimeout(() => void this.#fill(), GAP_WAIT_MS);
      this.#gapTimer.unref();
    }
  }

  #drain(): void {
    for (let it = this.#held.get(this.#next); it && !this.#done; it = this.#held.get(this.#next)) {
      this.#held.delete(this.#next);
      this.#next++;
      if (it.close !== undefined) {
        this.#done = true;
        this.target.closed(it.close);
      } else if (it.frame) this.target.send(it.frame);
    }
  }

  async #fill(): Promise<void> {
    this.#gapTimer = null;
    if (this.#done || this.#held.size === 0) return;
    try {
      for (const it of await this.target.fill(this.#next - 1)) this.offer(it);
    } catch {
      // Redis unreachable: try again below.
    }
    if (this.#done || this.#held.size === 0) return;
    // Still missing after reading the log: the items were trimmed or never written (a failed
    // append). Skip to the lowest held item so later events are not held forever.
    const lowest = Math.min(...this.#held.keys());
    if (lowest > this.#next && !this.#gapTimer) {
      this.#gapTimer = setTimeout(() => {
        this.#gapTimer = null;
        if (this.#held.size === 0) return;
        this.#next = Math.min(...this.#held.keys());
        this.#drain();
      }, GAP_WAIT_MS * 5);
      this.#gapTimer.unref();
    }
  }

  /** Stops delivering (session gone). */
  dispose(): void {
    this.#done = true;
    if (this.#gapTimer) clearTimeout(this.#gapTimer);
    this.#held.clear();
  }
}
