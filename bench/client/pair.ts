/** What the load loop needs from a pair of users, whatever server they talk to. */

/** Latencies of one cycle's three measured hops, ms. */
export interface CycleTimes {
  invite: number;
  accept: number;
  hangup: number;
}

/** Two users who call each other over and over. */
export interface Pair {
  /** Connects (and signs in) both users. */
  open(): Promise<void>;
  /** One full call cycle; throws on any failure or when a step takes longer than `stepTimeoutMs`. */
  cycle(stepTimeoutMs: number): Promise<CycleTimes>;
  /** After a failure: back to idle so the next cycle can start. */
  recover(): Promise<void>;
}
