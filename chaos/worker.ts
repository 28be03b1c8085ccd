/**
 * A chaos worker process: hosts some simulated users, each a real `CallEngine` (signaling only, or
 * with real Node media for the run's media users) connected through its own proxy, runs the
 * seeded random workload for them and records every callback each device saw and every request it
 * made, with times; for media users also when media from the other side of a 1-to-1 call starts
 * and stops arriving (`media:flowing` / `media:stalled`). Driven over IPC by `run.ts`:
 * `start` → workload runs; `stop` → workload ends and every user hangs up; `collect` → the
 * history is sent back, engines sign out, the process exits.
 */
import { CallEngine, CallMediaType } from '@opencall/client';
import { createNodeMedia, keepLoopbackCandidates, releaseWrtc } from '@opencall/client/node';
import type { NodeMedia } from '@opencall/client/node';
import { genUserSig } from '@opencall/server';
import { Rng } from './rng.js';
import { decide } from './workload.js';
import type { UserView } from './workload.js';
import { MEDIA_STALL_MS } from './types.js';
import type { Action, Entry } from './types.js';

/** What `run.ts` tells a worker at start. */
export interface WorkerStart {
  type: 'start';
  seed: number;
  sdkAppId: number;
  secretKey: string;
  /** The users this worker hosts, each with the URL of its own proxy and whether it has Node media. */
  users: { id: string; url: string; media: boolean }[];
  /** Every user of the run (whom to call). */
  everyone: string[];
  /** The users with Node media (media users call each other more often, so media calls happen). */
  mediaUsers: string[];
  /** Mean pause between a user's actions, ms. */
  thinkMs: number;
}

/** Messages from the parent. */
export type ToWorker = WorkerStart | { type: 'stop' } | { type: 'collect' };

/** Messages to the parent. */
export type FromWorker = { type: 'ready' } | { type: 'stopped' } | { type: 'history'; entries: Entry[] };

const entries: Entry[] = [];
let counter = 0;
let running = false;

/** One simulated user: the device it uses now and what it believes its call is. */
class SimUser implements UserView {
  engine!: CallEngine;
  device = '';
  devices = 0;
  /** The call this device is in and how: ringing, calling, connected. */
  callId: string | null = null;
  phase: 'idle' | 'ringing' | 'calling' | 'connected' = 'idle';
  group = false;
  media: CallMediaType = CallMediaType.audio;
  /** The other users of the call, as far as this device knows (the media sampler reads the first). */
  peers: string[] = [];
  /** This device's Node media, for a media user. */
  nodeMedia: NodeMedia | null = null;
  /** What the media sampler saw last: for which leg, frames so far, when they last grew, whether flowing. */
  #sample: { key: string; frames: number; grewAt: number; flowing: boolean } | null = null;
  /** Calls this user heard of (for `join`). */
  readonly known: string[] = [];

  constructor(
    readonly id: string,
    readonly url: string,
    private readonly cfg: WorkerStart,
    readonly hasMedia: boolean,
  ) {}

  /** Signs in on a new device (the old one, if any, is kicked by the server's `kick` policy). */
  async signIn(): Promise<void> {
    const device = `${this.id}-d${++this.devices}`;
    // Each device has its own media (a new sign-in is a new phone, with its own camera).
    const media = this.hasMedia ? createNodeMedia({ rewriteCandidate: keepLoopbackCandidates }) : null;
    const engine = new CallEngine({
      serverUrl: this.url,
      sdkAppId: this.cfg.sdkAppId,
      deviceId: device,
      ...(media ? { media } : {}),
      reconnectInitialDelayMs: 100,
      reconnectMaxDelayMs: 500,
      logger: { warn: () => undefined, error: () => undefined },
    });
    engine.addObserver(
      new Proxy(
        {},
        {
          get: (_t, name) =>
            typeof name === 'string' && name.startsWith('on') && !PERIODIC.has(name)
              ? (...args: unknown[]) => this.#seen(device, engine, name, args)
              : undefined,
        },
      ),
    );
    const old = this.engine as CallEngine | undefined;
    const oldDevice = this.device;
    this.engine = engine;
    this.nodeMedia = media;
    this.device = device;
    this.callId = null;
    this.phase = 'idle';
    const sig = genUserSig({ sdkAppId: this.cfg.sdkAppId, secretKey: this.cfg.secretKey, userId: this.id, expireSeconds: 86_400 });
    // Sign-in retries: the server may be down right now.
    for (;;) {
      const ok = await this.act('init', [], () => engine.init(this.id, sig));
      if (ok || !running) break;
      await sleep(300);
    }
    if (old) {
      // The old device was kicked; give its final events time to arrive, then let it go.
      setTimeout(() => void this.#retire(old, oldDevice), 8000);
    }
  }

  async #retire(engine: CallEngine, device: string): Promise<void> {
    const t = Date.now();
    const n = ++counter;
    await engine.unInit().catch(() => undefined);
    entries.push({ kind: 'action', t, n, end: Date.now(), user: this.id, device, name: 'unInit', args: [], ok: true });
  }

  #seen(device: string, engine: CallEngine, name: string, args: unknown[]): void {
    entries.push({ kind: 'event', t: Date.now(), n: ++counter, user: this.id, device, name, args: args.map(plain) });
    if (engine !== this.engine) return;
    const callId = typeof args[0] === 'string' ? args[0] : null;
    if (name === 'onCallReceived' && callId) {
      this.callId = callId;
      this.phase = 'ringing';
      this.group = Array.isArray(args[2]) && args[2].length > 1;
      this.media = Number(args[3]);
      this.peers = [String(args[1])];
      this.known.push(callId);
    } else if (name === 'onCallBegin' && callId) {
      this.callId = callId;
      this.phase = 'connected';
    } else if ((name === 'onCallEnd' || name === 'onCallNotConnected') && callId === this.callId) {
      this.callId = null;
      this.phase = 'idle';
    } else if (name === 'onUserInviting') {
      this.group = true;
    } else if (name === 'onCallMediaTypeChanged') {
      this.media = Number(args[1]);
    }
  }

  /** Runs one engine call and records it; resolves true when it succeeded. */
  async act(name: string, args: unknown[], fn: () => Promise<unknown>): Promise<boolean> {
    const t = Date.now();
    const n = ++counter;
    const device = this.device;
    try {
      const result = await fn();
      const callId = (result as { callId?: string } | undefined)?.callId ?? (name === 'join' ? String(args[0]) : undefined);
      entries.push({ kind: 'action', t, n, end: Date.now(), user: this.id, device, name, args, ok: true, ...(callId ? { callId } : {}) });
      return true;
    } catch (err) {
      const code = (err as { code?: number }).code;
      const a: Action = { kind: 'action', t, n, end: Date.now(), user: this.id, device, name, args, ok: false };
      if (code !== undefined) a.code = code;
      entries.push(a);
      return false;
    }
  }

  /**
   * Media users: records when frames from the other side of a connected 1-to-1 call start
   * arriving (`media:flowing`) and when none came for {@link MEDIA_STALL_MS} (`media:stalled`).
   * Group calls are not sampled (the run has no SFU).
   */
  sampleMedia(): void {
    const media = this.nodeMedia;
    const peer = this.peers[0];
    if (!media || this.phase !== 'connected' || this.group || !this.callId || peer === undefined) {
      this.#sample = null;
      return;
    }
    const key = `${this.device}|${this.callId}|${peer}`;
    const got = media.receivedFrames(peer);
    const frames = got.audio + got.video;
    const now = Date.now();
    // Counters are per remote user across calls: a new leg starts from what arrived so far.
    if (this.#sample?.key !== key) this.#sample = { key, frames, grewAt: now, flowing: false };
    const s = this.#sample;
    const record = (name: string): void =>
      void entries.push({ kind: 'event', t: now, n: ++counter, user: this.id, device: this.device, name, args: [this.callId, peer] });
    if (frames > s.frames) {
      s.frames = frames;
      s.grewAt = now;
      if (!s.flowing) record('media:flowing');
      s.flowing = true;
    } else if (s.flowing && now - s.grewAt >= MEDIA_STALL_MS) {
      record('media:stalled');
      s.flowing = false;
    }
  }

  /** The user's life: think, then do what the workload decides, until stopped. */
  async live(rng: Rng): Promise<void> {
    const mediaPeers = this.hasMedia ? this.cfg.mediaUsers.filter((u) => u !== this.id) : [];
    while (running) {
      await sleep(rng.int(this.cfg.thinkMs / 2, (this.cfg.thinkMs * 3) / 2));
      if (!running) break;
      const step = decide(rng, this, this.cfg.everyone, mediaPeers);
      if (!step) continue;
      if (step.name === 'signIn') await this.signIn();
      else if (step.name === 'calls') {
        const ok = await this.act('calls', step.args, async () => {
          const r = await this.engine.calls(step.args[0] as string[], step.args[1] as CallMediaType);
          this.callId = r.callId;
          this.known.push(r.callId);
          if (this.phase === 'idle') this.phase = 'calling';
          this.group = (step.args[0] as string[]).length > 1;
          this.media = step.args[1] as CallMediaType;
          this.peers = step.args[0] as string[];
          return r;
        });
        if (!ok && this.phase === 'calling') this.phase = 'idle';
      } else if ('run' in step) await this.act(step.name, step.args, () => step.run(this.engine));
    }
  }
}

const PERIODIC = new Set(['onUserVoiceVolumeChanged', 'onUserNetworkQualityChanged']);

/** Callback arguments as plain data (info objects keep only what the checker reads). */
function plain(a: unknown): unknown {
  if (a === null || typeof a !== 'object' || Array.isArray(a)) return a;
  const o = a as Record<string, unknown>;
  return 'role' in o ? { role: o.role } : JSON.parse(JSON.stringify(o)) as unknown;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let users: SimUser[] = [];
let lives: Promise<void>[] = [];
let sampler: NodeJS.Timeout | undefined;
const send = (m: FromWorker): void => void process.send?.(m);

process.on('message', (m: ToWorker) => {
  void (async () => {
    if (m.type === 'start') {
      running = true;
      users = m.users.map((u) => new SimUser(u.id, u.url, m, u.media));
      await Promise.all(users.map((u) => u.signIn()));
      if (users.some((u) => u.hasMedia)) sampler = setInterval(() => users.forEach((u) => u.sampleMedia()), 250);
      send({ type: 'ready' });
      lives = users.map((u) => u.live(new Rng(m.seed * 1000 + Number(u.id.replace(/\D/g, '')))));
    } else if (m.type === 'stop') {
      running = false;
      await Promise.all(lives);
      await Promise.all(users.map((u) => u.act('hangup', [], () => u.engine.hangup())));
      send({ type: 'stopped' });
    } else {
      clearInterval(sampler);
      send({ type: 'history', entries });
      await Promise.all(users.map((u) => u.engine.unInit().catch(() => undefined)));
      // wrtc crashes a process that exits with native media objects unfinalized.
      if (users.some((u) => u.hasMedia)) await releaseWrtc();
      process.exit(0);
    }
  })();
});
process.on('disconnect', () => process.exit(0));
