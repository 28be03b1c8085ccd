/**
 * The call kit embedded in a plain page, in real Chromium with three fake cameras and microphones:
 * a phone-sized page calls a desktop-sized page (video both ways), the desktop layout fills the
 * window with a movable self view, the microphone and camera are switched mid-call (the peer keeps
 * receiving, the new device's track is live), the call floats while the host page is used, and the
 * language switches during the call.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkip, framesOf, poll, waitConnected, waitOutcome } from '../../../test/helpers/browser.js';
import { bytesReceived, newestTrack, recordMedia, useKitBrowser } from '../../../test/helpers/kit.js';

const PHONE = { width: 400, height: 820 };
const DESKTOP = { width: 1280, height: 800 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function box(page: Page, selector: string): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await page.locator(selector).boundingBox();
  assert.ok(b, `${selector} has a box`);
  return b;
}

/** Grows by more than `by` within 10 s. */
async function grows(read: () => Promise<number>, by: number, what: string): Promise<void> {
  const start = await read();
  const now = await poll(read, (n) => n > start + by, 10_000);
  assert.ok(now > start + by, `${what}: ${start} → ${now}`);
}

describe('call kit: a call between a phone and a desktop page', { skip: browserSkip('call kit e2e'), timeout: 240_000 }, () => {
  // A shorter ring timeout than the helper's default; heartbeats kept roomy for a loaded machine.
  const kit = useKitBrowser({ defaultRingTimeoutSeconds: 20, heartbeatTimeoutMs: 15_000 });

  it('video both ways, desktop layout, device switching, floating window and language switch', async () => {
    const alice = await kit.open('plain', 'k_alice', { viewport: PHONE, setup: recordMedia });
    const bob = await kit.open('plain', 'k_bob', { viewport: DESKTOP, setup: recordMedia });

    // The host page's own form places the call; nothing of the kit shows before.
    assert.equal(await bob.page.locator('opencall-callkit .kit').isVisible(), false);
    await alice.page.locator('#callee').fill('k_bob');
    await alice.page.getByRole('button', { name: 'Video call' }).click();
    await bob.page.getByRole('button', { name: 'Accept video call' }).click();
    await waitConnected(alice);
    await waitConnected(bob);
    await poll(() => framesOf(alice, 'k_bob'), (n) => n > 5, 15_000);
    await poll(() => framesOf(bob, 'k_alice'), (n) => n > 5, 15_000);
    assert.ok((await framesOf(alice, 'k_bob')) > 5 && (await framesOf(bob, 'k_alice')) > 5, 'both decode the other video');

    // Desktop: the remote video fills the window, the own view is a larger movable picture.
    const main = await box(bob.page, 'opencall-callkit .tile[data-user="k_alice"]');
    assert.ok(main.width >= DESKTOP.width - 2 && main.height >= DESKTOP.height - 2, `desktop main tile ${main.width}×${main.height}`);
    const pip = await box(bob.page, 'opencall-callkit .tile[data-user="k_bob"]');
    assert.ok(pip.width >= 200, `desktop self view ${pip.width} px wide`);
    const phonePip = await box(alice.page, 'opencall-callkit .tile[data-user="k_alice"]');
    assert.ok(phonePip.width <= 120, `phone self view ${phonePip.width} px wide`);
    await bob.page.mouse.move(pip.x + pip.width / 2, pip.y + pip.height / 2);
    await bob.page.mouse.down();
    await bob.page.mouse.move(pip.x + pip.width / 2 - 400, pip.y + pip.height / 2 - 200, { steps: 5 });
    await bob.page.mouse.up();
    const moved = await box(bob.page, 'opencall-callkit .tile[data-user="k_bob"]');
    assert.ok(Math.abs(moved.x - (pip.x - 400)) <= 2 && Math.abs(moved.y - (pip.y - 200)) <= 2, `self view moved to ${moved.x},${moved.y}`);

    // Devices: the menu lists the three fake cameras and microphones; switch both mid-call.
    await bob.page.getByRole('button', { name: 'Devices: microphone, camera and speaker' }).click();
    const cameras = bob.page.locator('opencall-callkit #device-camera option');
    const mics = bob.page.locator('opencall-callkit #device-microphone option');
    await poll(() => cameras.count(), (n) => n === 3);
    assert.equal(await cameras.count(), 3);
    assert.equal(await mics.count(), 3);
    const before = await newestTrack(bob.page, 'video');
    // Chromium's fake_device_1 is a depth camera (Y16 pixels, nothing a video encoder sends);
    // fake_device_2 is an ordinary colour camera (MJPEG), like the default fake_device_0.
    const cameraIds = await cameras.evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent ?? '']));
    const otherCamera = cameraIds.find(([id, label]) => id !== before.deviceId && label === 'fake_device_2')?.[0] ?? '';
    assert.ok(otherCamera, `a second colour camera among ${JSON.stringify(cameraIds.map(([, l]) => l))}`);
    await bob.page.locator('opencall-callkit #device-camera').selectOption(otherCamera);
    await poll(() => newestTrack(bob.page, 'video'), (t) => t.deviceId === otherCamera);
    assert.deepEqual(await newestTrack(bob.page, 'video'), { deviceId: otherCamera, live: true, olderEnded: true });
    await grows(() => framesOf(alice, 'k_bob'), 10, 'alice keeps decoding bob after the camera switch');
    await grows(() => bytesReceived(alice.page, 'video'), 10_000, 'alice keeps receiving bob video');

    const micBefore = await newestTrack(bob.page, 'audio');
    const otherMic = (await mics.evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).find((id) => id !== micBefore.deviceId && id !== 'default')!;
    await bob.page.locator('opencall-callkit #device-microphone').selectOption(otherMic);
    await poll(() => newestTrack(bob.page, 'audio'), (t) => t.deviceId === otherMic);
    assert.deepEqual(await newestTrack(bob.page, 'audio'), { deviceId: otherMic, live: true, olderEnded: true });
    await grows(() => bytesReceived(alice.page, 'audio'), 2_000, 'alice keeps receiving bob audio');
    await bob.page.getByRole('button', { name: 'Done' }).click();

    // Floating window: small, draggable, the host page usable around it, the call going on.
    await bob.page.evaluate(() => {
      const w = window as unknown as { kit: { hooks: Record<string, () => void> }; hookLog: string[] };
      w.hookLog = [];
      w.kit.hooks.onMinimized = () => w.hookLog.push('min');
      w.kit.hooks.onMaximized = () => w.hookLog.push('max');
    });
    await bob.page.getByRole('button', { name: 'Minimise the call to a floating window' }).click();
    const float = await box(bob.page, 'opencall-callkit .kit[data-mode="float"]');
    assert.ok(float.width <= 260 && float.height <= 360, `floating window ${float.width}×${float.height}`);
    await bob.page.locator('#counter').click();
    await bob.page.locator('#counter').click();
    assert.equal(await bob.page.locator('#clicks').textContent(), '2');
    await bob.page.mouse.move(float.x + 120, float.y + 150);
    await bob.page.mouse.down();
    await bob.page.mouse.move(float.x - 500, float.y - 300, { steps: 5 });
    await bob.page.mouse.up();
    const floated = await box(bob.page, 'opencall-callkit .kit[data-mode="float"]');
    assert.ok(floated.x < float.x - 400, `floating window dragged to ${floated.x},${floated.y}`);
    await grows(() => framesOf(bob, 'k_alice'), 5, 'the floating window keeps playing alice');
    await bob.page.getByRole('button', { name: 'Return to the full call screen' }).click();
    await bob.page.locator('opencall-callkit .kit[data-mode="full"]').waitFor();
    assert.deepEqual(await bob.page.evaluate(() => (window as unknown as { hookLog: string[] }).hookLog), ['min', 'max']);

    // Language switch during the call.
    await alice.page.evaluate(() => (window as unknown as { kit: { setLanguage(l: string): void } }).kit.setLanguage('ja'));
    await alice.page.getByRole('button', { name: 'マイクをミュート' }).waitFor();
    await alice.page.evaluate(() => (window as unknown as { kit: { setLanguage(l: string): void } }).kit.setLanguage('zh-cn'));
    await alice.page.getByRole('button', { name: '关闭麦克风' }).waitFor();
    assert.equal(await alice.page.getByRole('button', { name: '挂断' }).count(), 1);
    await alice.page.getByRole('button', { name: '挂断' }).click();
    assert.equal(await waitOutcome(alice), '通话结束');
    assert.equal(await waitOutcome(bob), 'k_alice hung up');
    await sleep(100);
    assert.deepEqual([...alice.errors, ...bob.errors], []);
  });
});
