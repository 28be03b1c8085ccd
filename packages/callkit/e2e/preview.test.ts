/**
 * The camera and microphone preview before a video call, in real Chromium with three fake cameras
 * and microphones: the caller sees their own camera and a moving microphone level with the device
 * menu at hand, nothing rings anywhere until they press Start; the devices chosen there are the
 * ones the call sends; the level stays while the call rings and its capture ends once the call
 * connects. Cancel places nothing and releases every device; a call ringing during the preview
 * takes over.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkip, framesOf, poll, waitConnected, waitIncoming, waitOutcome } from '../../../test/helpers/browser.js';
import type { AppPage } from '../../../test/helpers/browser.js';
import { newestTrack, recordMedia, useKitBrowser } from '../../../test/helpers/kit.js';

type KitWindow = { kit: { enablePreview(on: boolean): void; calls(ids: string[], type: number): Promise<void> }; __tracks: MediaStreamTrack[] };

/** The microphone level the kit shows (its meter's aria-valuenow). */
async function micLevel(page: Page): Promise<number> {
  return Number(await page.getByRole('meter', { name: 'Microphone level' }).getAttribute('aria-valuenow'));
}

/** Live getUserMedia tracks of the page by kind. */
function liveTracks(page: Page): Promise<{ audio: number; video: number }> {
  return page.evaluate(() => {
    const live = (window as unknown as KitWindow).__tracks.filter((t) => t.readyState === 'live');
    return { audio: live.filter((t) => t.kind === 'audio').length, video: live.filter((t) => t.kind === 'video').length };
  });
}

/** Opens the preview of a video call to `callee` from the plain example's form. */
async function startPreview(caller: AppPage, callee: string): Promise<void> {
  await caller.page.evaluate(() => (window as unknown as KitWindow).kit.enablePreview(true));
  await caller.page.locator('#callee').fill(callee);
  await caller.page.getByRole('button', { name: 'Video call' }).click();
  await caller.page.locator('opencall-callkit .call[data-phase="preview"]').waitFor();
}

describe('call kit: camera and microphone preview before a video call', { skip: browserSkip('call kit e2e (preview)'), timeout: 240_000 }, () => {
  const kit = useKitBrowser();

  it('preview with level and devices, nothing rings until Start; the chosen devices are sent; the meter ends on connect', async () => {
    const alice = await kit.open('plain', 'pv_alice', { setup: recordMedia });
    const bob = await kit.open('plain', 'pv_bob', { viewport: { width: 1280, height: 800 } });
    await startPreview(alice, 'pv_bob');

    // Own camera and a moving microphone level; Start focused (Enter places the call).
    assert.equal(await alice.page.locator('opencall-callkit .call-status').textContent(), 'Check your camera and microphone');
    await poll(() => framesOf(alice, 'pv_alice'), (n) => n > 5, 15_000);
    assert.ok((await framesOf(alice, 'pv_alice')) > 5, 'the own camera plays in the preview');
    assert.ok(await alice.page.locator('opencall-callkit .tile[data-user="pv_alice"][data-slot="background"][data-video="on"]').isVisible());
    assert.ok((await poll(() => micLevel(alice.page), (n) => n > 0, 15_000)) > 0, 'the microphone level moves');
    assert.equal(await alice.page.evaluate(() => document.querySelector('opencall-callkit')?.shadowRoot?.activeElement?.getAttribute('aria-label')), 'Start the video call');

    // The device menu is there: switch camera and microphone before calling.
    await alice.page.getByRole('button', { name: 'Devices: microphone, camera and speaker' }).click();
    const cameras = alice.page.locator('opencall-callkit #device-camera option');
    await poll(() => cameras.count(), (n) => n === 3);
    const cameraIds = await cameras.evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent ?? '']));
    // fake_device_2 is a colour camera like the default (fake_device_1 is a depth camera).
    const otherCamera = cameraIds.find(([, label]) => label === 'fake_device_2')?.[0] ?? '';
    assert.ok(otherCamera, `a second colour camera among ${JSON.stringify(cameraIds)}`);
    await alice.page.locator('opencall-callkit #device-camera').selectOption(otherCamera);
    await poll(() => newestTrack(alice.page, 'video'), (t) => t.deviceId === otherCamera);
    assert.deepEqual(await newestTrack(alice.page, 'video'), { deviceId: otherCamera, live: true, olderEnded: true });
    const micBefore = await newestTrack(alice.page, 'audio');
    const mics = await alice.page.locator('opencall-callkit #device-microphone option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    const otherMic = mics.find((id) => id !== micBefore.deviceId && id !== 'default')!;
    await alice.page.locator('opencall-callkit #device-microphone').selectOption(otherMic);
    // The engine's microphone and the meter's capture both move to it; the older ones end.
    const liveMics = (): Promise<string[]> =>
      alice.page.evaluate(() => (window as unknown as KitWindow).__tracks.filter((t) => t.kind === 'audio' && t.readyState === 'live').map((t) => t.getSettings().deviceId ?? ''));
    await poll(liveMics, (ids) => ids.length === 2 && ids.every((id) => id === otherMic), 15_000);
    assert.deepEqual(await liveMics(), [otherMic, otherMic], 'the call microphone and the meter, both on the new device');
    assert.deepEqual(await liveTracks(alice.page), { audio: 2, video: 1 });
    assert.ok((await poll(() => micLevel(alice.page), (n) => n > 0, 15_000)) > 0, 'the level moves on the new microphone');
    await alice.page.getByRole('button', { name: 'Done' }).click();

    // Nothing was placed: Bob has no ring. Start places the call.
    assert.equal(await bob.page.locator('opencall-callkit .incoming').isVisible(), false);
    await alice.page.getByRole('button', { name: 'Start the video call' }).click();
    assert.equal(await waitIncoming(bob), 'pv_alice');
    assert.equal(await alice.page.locator('opencall-callkit .call-status').textContent(), 'Video calling…');
    assert.ok(await alice.page.getByRole('meter', { name: 'Microphone level' }).isVisible(), 'the level shows while it rings');
    await bob.page.getByRole('button', { name: 'Accept video call' }).click();
    await waitConnected(alice);
    await waitConnected(bob);
    await poll(() => framesOf(bob, 'pv_alice'), (n) => n > 5, 15_000);
    assert.ok((await framesOf(bob, 'pv_alice')) > 5, 'bob decodes alice');
    // The call sends the camera and microphone chosen in the preview; the meter's capture ended.
    await poll(() => liveTracks(alice.page), (n) => n.audio === 1);
    assert.deepEqual(await liveTracks(alice.page), { audio: 1, video: 1 });
    assert.deepEqual(await newestTrack(alice.page, 'video'), { deviceId: otherCamera, live: true, olderEnded: true });
    const sent = await alice.page.evaluate(() => (window as unknown as KitWindow).__tracks.filter((t) => t.readyState === 'live').map((t) => t.getSettings().deviceId).sort());
    assert.deepEqual(sent, [otherCamera, otherMic].sort());
    assert.equal(await alice.page.getByRole('meter', { name: 'Microphone level' }).isVisible(), false);
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(bob), 'pv_alice hung up');
    assert.deepEqual([...alice.errors, ...bob.errors], []);
  });

  it('Cancel places nothing and releases the devices; a call ringing during the preview takes over', async () => {
    const alice = await kit.open('plain', 'pc_alice', { setup: recordMedia });
    const bob = await kit.open('plain', 'pc_bob');

    await startPreview(alice, 'pc_bob');
    await poll(() => liveTracks(alice.page), (n) => n.audio === 2 && n.video === 1, 15_000);
    await alice.page.getByRole('button', { name: 'Cancel call' }).click();
    await alice.page.locator('opencall-callkit .kit').waitFor({ state: 'hidden' });
    await poll(() => liveTracks(alice.page), (n) => n.audio === 0 && n.video === 0);
    assert.deepEqual(await liveTracks(alice.page), { audio: 0, video: 0 }, 'camera, microphone and meter released');
    assert.equal(await bob.page.locator('opencall-callkit .incoming').isVisible(), false);

    // Preview again; Bob calls meanwhile: the ring replaces the preview and answers normally.
    await startPreview(alice, 'pc_bob');
    await bob.page.evaluate(() => (window as unknown as KitWindow).kit.calls(['pc_alice'], 1));
    assert.equal(await waitIncoming(alice), 'pc_bob');
    await alice.page.getByRole('button', { name: 'Accept audio call' }).click();
    await waitConnected(alice);
    await waitConnected(bob);
    await poll(() => liveTracks(alice.page), (n) => n.audio === 1 && n.video === 0);
    assert.deepEqual(await liveTracks(alice.page), { audio: 1, video: 0 }, 'the audio call has the microphone only');
    await bob.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(alice), 'pc_bob hung up');
    assert.deepEqual([...alice.errors, ...bob.errors], []);
  });
});
