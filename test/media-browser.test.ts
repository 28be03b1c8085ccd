/**
 * The browser media adapter in real Chromium (fake camera and microphone) calling a Node engine
 * with real wrtc media: frames are decoded on both sides, in both directions.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEngine, CallMediaType } from '@opencall/client';
import { createNodeMedia, keepLoopbackCandidates } from '@opencall/client/node';
import type { RunningServer } from '@opencall/server';
import { browserSkip, framesOf, poll, signIn, waitConnected, waitIncoming } from './helpers/browser.js';
import { useBrowserSuite } from './helpers/browserSuite.js';
import { Recorder } from './helpers/users.js';

/** A UserSig from the development endpoint (the web server runs in development mode). */
async function devSig(server: RunningServer, userId: string): Promise<string> {
  const r = await fetch(`${server.url}/dev/usersig`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
  return ((await r.json()) as { userSig: string }).userSig;
}

describe('Chromium ↔ Node media', { skip: browserSkip('Chromium ↔ Node media'), timeout: 120_000 }, () => {
  let engine: CallEngine | null = null;

  // Registered before the suite's hooks: the Node engine signs out before the page closes.
  afterEach(async () => {
    await engine?.unInit().catch(() => undefined);
  });
  const suite = useBrowserSuite();

  it('a Node engine video-calls a Chromium page: both decode the other side\'s audio and video', async () => {
    const { server } = suite;
    const app = await suite.newPage();
    await signIn(app, 'cb_web', 'Web Person');

    const media = createNodeMedia({ rewriteCandidate: keepLoopbackCandidates, video: { width: 160, height: 120, fps: 15 } });
    engine = new CallEngine({ serverUrl: server.url, sdkAppId: server.config.sdkAppId, media });
    const rec = new Recorder();
    engine.addObserver(rec.observer);
    await engine.init('cb_node', await devSig(server, 'cb_node'));

    await engine.calls(['cb_web'], CallMediaType.video);
    await waitIncoming(app);
    await app.page.getByRole('button', { name: 'Accept video call' }).click();
    await waitConnected(app);
    await rec.waitFor('onCallBegin');

    // Chromium decodes the Node engine's test pattern…
    const pageFrames = await poll(() => framesOf(app, 'cb_node'), (n) => n > 10, 20_000);
    assert.ok(pageFrames > 10, `the page decoded ${pageFrames} video frames from the Node engine`);
    // …and the Node engine receives Chromium's fake camera and microphone.
    const nodeFrames = await poll(async () => media.receivedFrames('cb_web'), (f) => f.video > 10 && f.audio > 10, 20_000);
    assert.ok(nodeFrames.video > 10 && nodeFrames.audio > 10, `Node received ${JSON.stringify(nodeFrames)} from the page`);
    // The remote video element really plays (not just a stalled first frame).
    const later = await poll(() => framesOf(app, 'cb_node'), (n) => n > pageFrames + 5, 10_000);
    assert.ok(later > pageFrames, 'frames keep arriving');

    await engine.hangup();
    assert.deepEqual(app.errors, []);
  });
});
