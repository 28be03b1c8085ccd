/**
 * The call in the browser's Document Picture-in-Picture window, in real (headless) Chromium, which
 * has `documentPictureInPicture` and opens the window as a second page of the context: the live
 * call view (remote video, controls) moves there, keeps playing, and comes back when the window
 * closes by its own close button, by the kit's "return" button or after the call ended; the hooks
 * say where it went. Where the API is missing, or the browser refuses a window (no user
 * activation), the call goes to the in-page floating window instead.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkip, framesOf, poll, waitConnected, waitOutcome } from '../../../test/helpers/browser.js';
import type { AppPage } from '../../../test/helpers/browser.js';
import { useKitBrowser } from '../../../test/helpers/kit.js';

const DESKTOP = { width: 1280, height: 800 };
const POP_OUT = 'Open the call in a picture-in-picture window';

type KitWindow = { kit: { hooks: Record<string, (mode?: string) => void>; popOut(): Promise<string>; viewMode: string }; hookLog: string[] };

/** Records the minimise/maximise hooks of the page's kit in `window.hookLog`. */
async function logHooks(app: AppPage): Promise<void> {
  await app.page.evaluate(() => {
    const w = window as unknown as KitWindow;
    w.hookLog = [];
    w.kit.hooks.onMinimized = (mode) => w.hookLog.push(`min:${mode}`);
    w.kit.hooks.onMaximized = () => w.hookLog.push('max');
  });
}

const hookLog = (app: AppPage): Promise<string[]> => app.page.evaluate(() => (window as unknown as KitWindow).hookLog);

/** Frames decoded by `userId`'s tile inside the picture-in-picture window. */
function pipFrames(pip: Page, userId: string): Promise<number> {
  return pip.evaluate((u) => {
    const root = document.querySelector('[data-opencall-pip]')?.shadowRoot;
    const v = root?.querySelector<HTMLVideoElement>(`.tile[data-user="${u}"] video`);
    return v ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
  }, userId);
}

/** Grows by more than `by` within 15 s. */
async function grows(read: () => Promise<number>, by: number, what: string): Promise<void> {
  const start = await read();
  const now = await poll(read, (n) => n > start + by, 15_000);
  assert.ok(now > start + by, `${what}: ${start} → ${now}`);
}

/** Alice (phone) video-calls Bob (desktop); both decode the other's video. */
async function videoCall(alice: AppPage, bob: AppPage, bobId: string): Promise<void> {
  await alice.page.locator('#callee').fill(bobId);
  await alice.page.getByRole('button', { name: 'Video call' }).click();
  await bob.page.getByRole('button', { name: 'Accept video call' }).click();
  await waitConnected(alice);
  await waitConnected(bob);
  await poll(() => framesOf(bob, 'po_alice'), (n) => n > 5, 15_000);
}

/** Clicks the kit's pop-out button and returns the picture-in-picture page it opened. */
async function popOut(bob: AppPage): Promise<Page> {
  const opened = bob.context.waitForEvent('page', { timeout: 15_000 });
  await bob.page.getByRole('button', { name: POP_OUT }).click();
  const pip = await opened;
  await pip.locator('[data-opencall-pip] .kit[data-mode="pip"]').waitFor();
  return pip;
}

describe('call kit: picture-in-picture window and its fallback', { skip: browserSkip('call kit e2e (picture-in-picture)'), timeout: 240_000 }, () => {
  const kit = useKitBrowser();

  it('the call moves into the Document Picture-in-Picture window, keeps playing, and comes back however the window closes', async () => {
    const alice = await kit.open('plain', 'po_alice');
    const bob = await kit.open('plain', 'po_bob', { viewport: DESKTOP });
    assert.equal(await bob.page.evaluate(() => 'documentPictureInPicture' in window), true, 'this Chromium has Document Picture-in-Picture');
    await videoCall(alice, bob, 'po_bob');
    await logHooks(bob);

    // 1. Pop out: the live call view is in the new window, not in the page; video keeps playing.
    let pip = await popOut(bob);
    assert.equal(await bob.page.locator('opencall-callkit .kit').count(), 0, 'the call view left the page');
    await grows(() => pipFrames(pip, 'po_alice'), 5, 'the picture-in-picture window plays alice');
    assert.ok(await pip.getByRole('button', { name: 'Hang up' }).isVisible(), 'the controls came along');
    assert.equal(await pip.getByRole('button', { name: 'Mute microphone' }).isVisible(), true);
    assert.equal(await pip.getByRole('button', { name: POP_OUT }).isVisible(), false, 'no pop-out button inside the window');
    // The kit's stylesheet applies there too (a shadow root of that document): a red round disc.
    const disc = await pip
      .getByRole('button', { name: 'Hang up' })
      .locator('.round-btn-disc')
      .evaluate((el) => ({ background: getComputedStyle(el).backgroundColor, radius: getComputedStyle(el).borderRadius, width: el.getBoundingClientRect().width }));
    assert.equal(disc.background, 'rgb(239, 68, 68)', JSON.stringify(disc));
    assert.equal(disc.radius, '50%');
    assert.ok(disc.width >= 44, `a touch-sized control: ${JSON.stringify(disc)}`);
    // The host page is free meanwhile.
    await bob.page.locator('#counter').click();
    assert.equal(await bob.page.locator('#clicks').textContent(), '1');
    assert.deepEqual(await hookLog(bob), ['min:pip']);
    assert.equal(await bob.page.evaluate(() => (window as unknown as KitWindow).kit.viewMode), 'pip');

    // 2. The window's own close button (the user closes it): the call comes back, still playing.
    await pip.close();
    await bob.page.locator('opencall-callkit .kit[data-mode="full"]').waitFor();
    await grows(() => framesOf(bob, 'po_alice'), 5, 'back in the page, alice still plays');
    assert.deepEqual(await hookLog(bob), ['min:pip', 'max']);

    // 3. The kit's "return" button inside the window.
    pip = await popOut(bob);
    const closed = pip.waitForEvent('close', { timeout: 15_000 });
    await pip.getByRole('button', { name: 'Return to the full call screen' }).click();
    await closed;
    await bob.page.locator('opencall-callkit .kit[data-mode="full"]').waitFor();
    assert.deepEqual(await hookLog(bob), ['min:pip', 'max', 'min:pip', 'max']);

    // 4. The call ends while popped out: the end card shows in the window, which then closes and
    // leaves the page as it was before the call (nothing of the kit showing).
    pip = await popOut(bob);
    const gone = pip.waitForEvent('close', { timeout: 15_000 });
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome({ ...bob, page: pip }), 'po_alice hung up');
    await gone;
    assert.equal(await bob.page.locator('opencall-callkit .kit').isVisible(), false);
    await poll(() => hookLog(bob), (l) => l.length === 6, 10_000);
    assert.deepEqual(await hookLog(bob), ['min:pip', 'max', 'min:pip', 'max', 'min:pip', 'max']);
    assert.deepEqual([...alice.errors, ...bob.errors], []);
  });

  it('falls back to the floating window where the API is missing or the browser refuses a window', async () => {
    const alice = await kit.open('plain', 'pf_alice');
    // Bob's browser has no Document Picture-in-Picture.
    const bob = await kit.open('plain', 'pf_bob', {
      viewport: DESKTOP,
      setup: async (page) => {
        await page.addInitScript(() => Object.defineProperty(window, 'documentPictureInPicture', { value: undefined, configurable: true }));
      },
    });
    await alice.page.locator('#callee').fill('pf_bob');
    await alice.page.getByRole('button', { name: 'Video call' }).click();
    await bob.page.getByRole('button', { name: 'Accept video call' }).click();
    await waitConnected(alice);
    await waitConnected(bob);
    await poll(() => framesOf(bob, 'pf_alice'), (n) => n > 5, 15_000);
    await logHooks(bob);
    await logHooks(alice);

    // No API: no pop-out button; the floating window's button is there, and popOut() floats.
    await bob.page.getByRole('button', { name: 'Minimise the call to a floating window' }).waitFor();
    assert.equal(await bob.page.getByRole('button', { name: POP_OUT }).count(), 0);
    assert.equal(await bob.page.evaluate(() => (window as unknown as KitWindow).kit.popOut()), 'float');
    await bob.page.locator('opencall-callkit .kit[data-mode="float"]').waitFor();
    await grows(() => framesOf(bob, 'pf_alice'), 5, 'the floating window keeps playing alice');
    assert.deepEqual(await hookLog(bob), ['min:float']);

    // The API is there but the browser refuses a window without a user activation: floating window.
    // (Playwright's evaluate counts as a gesture; opening a window of our own uses it up first.)
    const refused = await alice.page.evaluate(async () => {
      const api = (window as unknown as { documentPictureInPicture: { requestWindow(): Promise<Window> } }).documentPictureInPicture;
      (await api.requestWindow()).close();
      return { activation: navigator.userActivation.isActive, mode: await (window as unknown as KitWindow).kit.popOut() };
    });
    assert.deepEqual(refused, { activation: false, mode: 'float' });
    await alice.page.locator('opencall-callkit .kit[data-mode="float"]').waitFor();
    await poll(async () => alice.context.pages().length, (n) => n === 1);
    assert.equal(alice.context.pages().length, 1, 'no picture-in-picture window stays open');
    assert.deepEqual(await hookLog(alice), ['min:float']);

    await bob.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(alice), 'pf_bob hung up');
    await poll(() => hookLog(alice), (l) => l.length === 2, 10_000);
    assert.deepEqual(await hookLog(alice), ['min:float', 'max']);
    assert.deepEqual([...alice.errors, ...bob.errors], []);
  });
});
