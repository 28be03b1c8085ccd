/**
 * Real CallEngine clients for integration tests, each with a recorder that captures every
 * observer callback with its arguments, in order.
 */
import { after } from 'node:test';
import { CallEngine } from '@opencall/client';
import type { CallObserver } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { TEST_APP_ID, sig } from './server.js';

/** One observed callback. */
export interface Observed {
  name: string;
  args: unknown[];
}

/** Records every observer callback an engine fires. */
export class Recorder {
  readonly events: Observed[] = [];
  /** Connection-state and device-list changes. */
  readonly plumbing: Observed[] = [];
  readonly #waiters: { match: (e: Observed) => boolean; resolve: (e: Observed) => void }[] = [];

  /** An observer (a Proxy) that records any callback name. */
  readonly observer: Partial<CallObserver> = new Proxy(
    {},
    {
      get: (_t, name) =>
        typeof name === 'string' && name.startsWith('on')
          ? (...args: unknown[]) => this.#push({ name, args })
          : undefined,
      has: (_t, name) => typeof name === 'string' && name.startsWith('on'),
    },
  );

  #push(e: Observed): void {
    // Volume and quality ticks are periodic noise for signaling assertions.
    if (PLUMBING.has(e.name)) this.plumbing.push(e);
    else this.events.push(e);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (w.match(e)) {
        this.#waiters.splice(i, 1);
        w.resolve(e);
      }
    }
  }

  /** Events as compact strings, e.g. `onUserJoin(bob)`, periodic media events excluded. */
  lines(): string[] {
    return this.events.filter((e) => !PERIODIC.has(e.name)).map(format);
  }

  /** Names only, periodic media events excluded. */
  names(): string[] {
    return this.events.filter((e) => !PERIODIC.has(e.name)).map((e) => e.name);
  }

  /** Forgets what was recorded. */
  clear(): void {
    this.events.length = 0;
  }

  /** Resolves with the first (already recorded or future) event named `name` matching `pred`. */
  waitFor(name: string, pred: (args: unknown[]) => boolean = () => true, timeoutMs = 5000): Promise<Observed> {
    const match = (e: Observed): boolean => e.name === name && pred(e.args);
    const found = this.events.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${name}; saw: ${this.lines().join(', ')}`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(t);
          resolve(e);
        },
      });
    });
  }
}

const PERIODIC = new Set(['onUserVoiceVolumeChanged', 'onUserNetworkQualityChanged']);
/** Engine plumbing, not call events: kept apart (`plumbing`) so call-event indexes stay as the SPEC lists them. */
const PLUMBING = new Set(['onConnectionStateChanged', 'onDeviceListChanged']);

/** `onX(a,b,...)` with call ids shortened to `callId` and info objects to `info(role)`. */
function format(e: Observed): string {
  const args = e.args.map((a) => {
    if (typeof a === 'string' && a.startsWith('c_')) return 'callId';
    if (a && typeof a === 'object' && !Array.isArray(a) && 'role' in a) return `info(${String((a).role)})`;
    if (Array.isArray(a)) return `[${a.join(',')}]`;
    return String(a);
  });
  return `${e.name}(${args.join(',')})`;
}

/** A signed-in test user. */
export interface TestUser {
  id: string;
  engine: CallEngine;
  rec: Recorder;
}

/** Every engine this file created: a test that fails before its cleanup must not keep the process alive. */
const engines = new Set<CallEngine>();
after(async () => {
  await Promise.all([...engines].map((e) => e.unInit().catch(() => undefined)));
});

/** Creates an engine for `userId`, adds a recorder and signs in. */
export async function user(server: RunningServer, userId: string, opts: { init?: boolean } = {}): Promise<TestUser> {
  const engine = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID });
  engines.add(engine);
  const rec = new Recorder();
  engine.addObserver(rec.observer);
  if (opts.init !== false) await engine.init(userId, sig(userId));
  return { id: userId, engine, rec };
}

/** Signs out every user; ignores failures (a test may have killed one). */
export async function cleanup(...users: TestUser[]): Promise<void> {
  await Promise.all(users.map((u) => u.engine.unInit().catch(() => undefined)));
}

/** Waits `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
