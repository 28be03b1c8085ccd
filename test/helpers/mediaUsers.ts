/**
 * Real CallEngine clients with real Node media (@roamhq/wrtc) for the media suites: each user has
 * a recorder of every observer callback and a NodeMedia whose frame counters prove what arrived.
 * Candidates stay on 127.0.0.1 unless a test rewrites them (impairment proxy).
 */
import { CallEngine, CallMediaType } from '@opencall/client';
import { createNodeMedia, keepLoopbackCandidates } from '@opencall/client/node';
import type { NodeMedia, NodeMediaOptions } from '@opencall/client/node';
import type { RunningServer } from '@opencall/server';
import { Recorder } from './users.js';
import type { TestUser } from './users.js';
import { TEST_APP_ID, sig } from './server.js';
import { waitUntil } from './wrtcPeer.js';

/** A signed-in user with Node media. */
export interface MediaUser extends TestUser {
  media: NodeMedia;
}

/** Every media user created and not yet cleaned up (a failed test must not leave calls running). */
const live = new Set<MediaUser>();

const quiet = { debug: () => undefined, warn: () => undefined, error: (m: string, f?: unknown) => console.error(`[engine] ${m}`, f ?? '') };

/** Creates an engine with Node media for `userId` and signs in. */
export async function mediaUser(server: RunningServer, userId: string, options: NodeMediaOptions = {}, engineOptions: { WebSocket?: new (url: string) => object } = {}): Promise<MediaUser> {
  const media = createNodeMedia({ rewriteCandidate: keepLoopbackCandidates, ...options });
  const engine = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID, media, logger: quiet, reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 200, ...engineOptions });
  const rec = new Recorder();
  engine.addObserver(rec.observer);
  const u: MediaUser = { id: userId, engine, rec, media };
  live.add(u);
  await engine.init(userId, sig(userId));
  return u;
}

/** `caller` calls `callees` and every callee accepts; resolves once everybody saw onCallBegin. */
export async function connect(caller: MediaUser, callees: MediaUser[], type: CallMediaType = CallMediaType.video, params?: { chatGroupId?: string }): Promise<string> {
  const { callId } = await caller.engine.calls(callees.map((u) => u.id), type, params);
  for (const u of callees) {
    await u.rec.waitFor('onCallReceived');
    await u.engine.accept();
  }
  await caller.rec.waitFor('onCallBegin');
  return callId;
}

/** Waits until every user received at least `audio`/`video` frames from every other user. */
export async function framesEverywhere(users: MediaUser[], min: { audio: number; video: number }, timeoutMs: number): Promise<void> {
  await waitUntil(
    () => users.every((u) => users.every((o) => o === u || (u.media.receivedFrames(o.id).audio >= min.audio && u.media.receivedFrames(o.id).video >= min.video))),
    timeoutMs,
    `frames everywhere (${JSON.stringify(min)}); have ${users.map((u) => `${u.id}←${JSON.stringify(Object.fromEntries(users.filter((o) => o !== u).map((o) => [o.id, u.media.receivedFrames(o.id)])))}`).join(' ')}`,
  );
}

/** Frames received by `u` from `from` that arrive during the next `ms`. */
export async function framesDuring(u: MediaUser, from: string, ms: number): Promise<{ audio: number; video: number }> {
  const before = u.media.receivedFrames(from);
  await new Promise((r) => setTimeout(r, ms));
  const after = u.media.receivedFrames(from);
  return { audio: after.audio - before.audio, video: after.video - before.video };
}

/** Polls an async predicate every 50 ms until true; throws `what` after `timeoutMs`. */
export async function waitFor(pred: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Signs everybody out (hanging up first); ignores failures. */
export async function cleanupMedia(...users: MediaUser[]): Promise<void> {
  users.forEach((u) => live.delete(u));
  await Promise.all(users.map((u) => u.engine.unInit().catch(() => undefined)));
}

/** Signs out every media user still signed in (use in `afterEach`: a failed test skips its own cleanup). */
export async function cleanupAllMedia(): Promise<void> {
  await cleanupMedia(...live);
}
