/**
 * A pair of raw WebSocket clients of the bare relay doing the same cycle shape as the OpenCall
 * pair: invite A→B, accept B→A, hangup A→B, ended B→A. Each side parses every frame it gets and
 * answers at once, like the engines' observers would.
 */
import { WebSocket } from 'ws';
import type { CycleTimes, Pair } from './pair.js';
import { Waiters } from './waiters.js';

type Kind = 'invite' | 'accept' | 'hangup' | 'ended';

/** Two relay users calling each other. */
export class RelayPair implements Pair {
  readonly #w = new Waiters();
  #a: WebSocket | null = null;
  #b: WebSocket | null = null;
  #cycle = 0;
  /** When B sent `accept` (B answers inside its message handler). */
  #acceptSentAt = 0;

  constructor(
    private readonly url: string,
    private readonly aId: string,
    private readonly bId: string,
  ) {}

  #connect(id: string, onFrame: (m: { type: Kind; c: number }) => void): Promise<WebSocket> {
    const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/ws?id=${id}`);
    ws.on('message', (data) => onFrame(JSON.parse((data as Buffer).toString()) as { type: Kind; c: number }));
    ws.on('close', () => this.#w.failAll(new Error(`${id}: socket closed`)));
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  #send(ws: WebSocket, to: string, type: Kind): void {
    ws.send(JSON.stringify({ to, type, c: this.#cycle }));
  }

  async open(): Promise<void> {
    [this.#a, this.#b] = await Promise.all([
      this.#connect(this.aId, (m) => {
        if (m.type === 'accept') this.#w.fire('a:accept');
        else if (m.type === 'ended') this.#w.fire('a:ended');
      }),
      this.#connect(this.bId, (m) => {
        if (m.type === 'invite') {
          this.#w.fire('b:invite');
          this.#acceptSentAt = performance.now();
          this.#send(this.#b!, this.aId, 'accept');
        } else if (m.type === 'hangup') {
          this.#w.fire('b:hangup');
          this.#send(this.#b!, this.aId, 'ended');
        }
      }),
    ]);
  }

  async cycle(stepTimeoutMs: number): Promise<CycleTimes> {
    this.#cycle++;
    const invited = this.#w.expect('b:invite', stepTimeoutMs);
    const accepted = this.#w.expect('a:accept', stepTimeoutMs);
    const t0 = performance.now();
    this.#send(this.#a!, this.bId, 'invite');
    const t1 = await invited;
    const t3 = await accepted;
    const hungUp = this.#w.expect('b:hangup', stepTimeoutMs);
    const ended = this.#w.expect('a:ended', stepTimeoutMs);
    const t4 = performance.now();
    this.#send(this.#a!, this.bId, 'hangup');
    const t5 = await hungUp;
    await ended;
    return { invite: t1 - t0, accept: t3 - this.#acceptSentAt, hangup: t5 - t4 };
  }

  async recover(): Promise<void> {
    this.#w.failAll(new Error('recovering'));
  }
}
