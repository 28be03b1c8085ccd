/**
 * A pair of real `CallEngine`s (signaling only: Node, no media adapter) doing the SPEC §5.2 cycle:
 * A `calls([B])` → B `onCallReceived` → B `accept()` → A `onCallBegin` → A `hangup()` → B
 * `onCallEnd`. Any rejected promise, unexpected ending or step timeout fails the cycle.
 */
import { CallEngine, CallMediaType } from '@opencall/client';
import type { CallObserver } from '@opencall/client';
import { genUserSig } from '@opencall/protocol';
import type { CycleTimes, Pair } from './pair.js';
import { Waiters } from './waiters.js';

/** Where the engines connect and how they sign in. */
export interface OpencallTarget {
  url: string;
  sdkAppId: number;
  secretKey: string;
  /** A WebSocket class for the engines (the frames bench counts frames with its own). */
  WebSocket?: new (url: string) => object;
}

/** Counts engine warnings instead of printing thousands of lines under load. */
export const engineWarnings = { count: 0, last: '' };
const logger = {
  warn: (m: string): void => {
    engineWarnings.count++;
    engineWarnings.last = m;
  },
  error: (m: string): void => {
    engineWarnings.count++;
    engineWarnings.last = m;
  },
};

/** Creates an engine for `userId` and signs it in. */
export async function signedInEngine(t: OpencallTarget, userId: string, observer?: Partial<CallObserver>): Promise<CallEngine> {
  const engine = new CallEngine({ serverUrl: t.url, sdkAppId: t.sdkAppId, logger, ...(t.WebSocket ? { WebSocket: t.WebSocket } : {}) });
  if (observer) engine.addObserver(observer);
  const userSig = genUserSig({ sdkAppId: t.sdkAppId, secretKey: t.secretKey, userId, expireSeconds: 86_400 });
  await engine.init(userId, userSig);
  return engine;
}

/** Two OpenCall users calling each other. */
export class OpencallPair implements Pair {
  readonly #w = new Waiters();
  #a: CallEngine | null = null;
  #b: CallEngine | null = null;

  constructor(
    private readonly target: OpencallTarget,
    private readonly aId: string,
    private readonly bId: string,
  ) {}

  #observer(side: 'a' | 'b'): Partial<CallObserver> {
    const fail = (what: string) => (): void => this.#w.failAll(new Error(`${side}: ${what}`));
    return {
      onCallReceived: () => this.#w.fire(`${side}:received`),
      onCallBegin: () => this.#w.fire(`${side}:begin`),
      onCallEnd: () => this.#w.fire(`${side}:end`),
      onCallNotConnected: (_id, _t, reason) => this.#w.failAll(new Error(`${side}: onCallNotConnected(reason ${reason})`)),
      onKickedOffline: fail('onKickedOffline'),
      onError: (code, message) => this.#w.failAll(new Error(`${side}: onError ${code} ${message}`)),
    };
  }

  async open(): Promise<void> {
    [this.#a, this.#b] = await Promise.all([
      signedInEngine(this.target, this.aId, this.#observer('a')),
      signedInEngine(this.target, this.bId, this.#observer('b')),
    ]);
  }

  async cycle(stepTimeoutMs: number): Promise<CycleTimes> {
    const a = this.#a!;
    const b = this.#b!;
    const received = this.#w.expect('b:received', stepTimeoutMs);
    const begun = this.#w.expect('a:begin', stepTimeoutMs);
    // A failed request must fail the waits too, or the cycle would only end by timeout.
    const guard = <T>(p: Promise<T>): Promise<T> =>
      p.catch((err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        this.#w.failAll(e);
        throw e;
      });
    const t0 = performance.now();
    const calling = guard(a.calls([this.bId], CallMediaType.audio));
    calling.catch(() => undefined);
    const t1 = await received;
    const t2 = performance.now();
    await guard(b.accept());
    const t3 = await begun;
    await calling;
    const ended = this.#w.expect('b:end', stepTimeoutMs);
    const t4 = performance.now();
    await guard(a.hangup());
    const t5 = await ended;
    return { invite: t1 - t0, accept: t3 - t2, hangup: t5 - t4 };
  }

  async recover(): Promise<void> {
    this.#w.failAll(new Error('recovering'));
    await Promise.all([this.#a?.hangup().catch(() => undefined), this.#b?.hangup().catch(() => undefined)]);
  }
}
