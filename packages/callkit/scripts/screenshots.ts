/**
 * Regenerates the call kit's screenshots in docs/screenshots/kit-*.png: every screen at phone size
 * (400×820) and desktop size (1280×800) (the picture-in-picture window at 360×520), from the plain embedding example on a real server with
 * Chromium's fake camera (the green test pattern).
 *
 *   node --import tsx --conditions=source packages/callkit/scripts/screenshots.ts
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startWebServer, waitConnected } from '../../../test/helpers/browser.js';
import { launchKitChromium, openExample } from '../../../test/helpers/kit.js';

const OUT = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const SIZES = { phone: { width: 400, height: 820 }, desktop: { width: 1280, height: 800 } } as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(OUT, `kit-${name}.png`) });

const server = await startWebServer({ defaultRingTimeoutSeconds: 60, heartbeatTimeoutMs: 15_000 });
const browser = await launchKitChromium();
try {
  for (const [size, viewport] of Object.entries(SIZES)) {
    const caller = await openExample(browser, server, 'plain', `${size}_alice`, { viewport: SIZES.phone });
    const me = await openExample(browser, server, 'plain', `${size}_bob`, { viewport });
    await caller.page.evaluate(() => (window as unknown as { kit: { setSelfInfo(n: string, a: string): Promise<void> } }).kit.setSelfInfo('Alice Martin', ''));
    await me.page.evaluate(() => (window as unknown as { kit: { setSelfInfo(n: string, a: string): Promise<void> } }).kit.setSelfInfo('Bob Stone', ''));
    // The preview before a video call (placed from there with Start; cancelled here).
    await me.page.evaluate((id) => {
      const kit = (window as unknown as { kit: { enablePreview(on: boolean): void; calls(ids: string[], type: number): Promise<void> } }).kit;
      kit.enablePreview(true);
      void kit.calls([id], 2);
    }, `${size}_alice`);
    await me.page.locator('opencall-callkit .call[data-phase="preview"]').waitFor();
    await me.page.waitForFunction(() => Number(document.querySelector('opencall-callkit')?.shadowRoot?.querySelector('.mic-level')?.getAttribute('aria-valuenow')) > 20, undefined, { timeout: 10_000 });
    await shot(me.page, `preview-${size}`);
    await me.page.getByRole('button', { name: 'Cancel call' }).click();
    await me.page.locator('opencall-callkit .kit').waitFor({ state: 'hidden' });
    await caller.page.locator('#callee').fill(`${size}_bob`);
    await caller.page.getByRole('button', { name: 'Video call' }).click();
    await me.page.getByRole('button', { name: 'Accept video call' }).waitFor();
    await sleep(600);
    await shot(me.page, `incoming-${size}`);
    await me.page.getByRole('button', { name: 'Accept video call' }).click();
    await waitConnected(me);
    await sleep(2500);
    await shot(me.page, `in-call-${size}`);
    await me.page.getByRole('button', { name: 'Devices: microphone, camera and speaker' }).click();
    await sleep(600);
    await shot(me.page, `devices-${size}`);
    await me.page.getByRole('button', { name: 'Done' }).click();
    await me.page.getByRole('button', { name: 'Minimise the call to a floating window' }).click();
    await sleep(600);
    await shot(me.page, `floating-${size}`);
    await me.page.getByRole('button', { name: 'Return to the full call screen' }).click();
    if (size === 'desktop') {
      // The browser's picture-in-picture window (headless Chromium opens it as a page; sized like a real one).
      const opened = me.context.waitForEvent('page');
      await me.page.getByRole('button', { name: 'Open the call in a picture-in-picture window' }).click();
      const pip = await opened;
      await pip.setViewportSize({ width: 360, height: 520 });
      await sleep(1200);
      await pip.screenshot({ path: join(OUT, 'kit-pip.png') });
      await pip.close();
      await me.page.locator('opencall-callkit .kit[data-mode="full"]').waitFor();
    }
    await me.page.evaluate(() => (window as unknown as { kit: { setLanguage(l: string): void } }).kit.setLanguage('ja'));
    await sleep(300);
    await shot(me.page, `in-call-ja-${size}`);
    await me.page.evaluate(() => (window as unknown as { kit: { setLanguage(l: string): void } }).kit.setLanguage('en'));
    await caller.page.getByRole('button', { name: 'Hang up' }).click();
    await me.page.locator('opencall-callkit .outcome:not([hidden])').waitFor();
    await sleep(300);
    await shot(me.page, `outcome-${size}`);
    await caller.context.close();
    await me.context.close();
  }
  console.log(`screenshots written to ${OUT}`);
} finally {
  await browser.close();
  await server.close();
}
