/**
 * Messages between the bench driver and its client worker processes (Node IPC), and the shape of
 * one load run's result. Shared by both sides so they cannot drift apart.
 */

/** Which server the clients talk to. */
export type Target = 'opencall' | 'relay';

/** Driver → worker. */
export type ToWorker =
  | {
      cmd: 'setup';
      target: Target;
      url: string;
      /** Pair indexes this worker runs (both users of a pair live in one worker, one clock). */
      pairs: number[];
      /** Prefix of user ids (unique per run). */
      tag: string;
      sdkAppId: number;
      secretKey: string;
      /** How many sign-ins run at once. */
      concurrency: number;
    }
  | { cmd: 'idle'; url: string; from: number; count: number; tag: string; sdkAppId: number; secretKey: string; concurrency: number }
  | { cmd: 'go'; warmupMs: number; durationMs: number; stepTimeoutMs: number }
  | { cmd: 'close' };

/** Latency samples of the three measured hops, ms. */
export interface HopSamples {
  /** invite sent (A) → invite seen (B): `calls()` → `onCallReceived`. */
  invite: number[];
  /** accept sent (B) → accepted seen (A): `accept()` → A's `onCallBegin`. */
  accept: number[];
  /** hangup sent (A) → end seen (B): `hangup()` → B's `onCallEnd`. */
  hangup: number[];
}

/** What a worker measured in the window. */
export interface WorkerResult {
  /** Full cycles completed inside the measurement window. */
  cycles: number;
  /** Cycles that failed (rejected request, step timeout, unexpected event), whole run. */
  errors: number;
  /** A few error messages, for the report. */
  errorSamples: string[];
  samples: HopSamples;
}

/** Worker → driver. */
export type FromWorker =
  | { evt: 'ready'; signedIn: number; ms: number }
  | { evt: 'done'; result: WorkerResult }
  | { evt: 'failed'; message: string };
