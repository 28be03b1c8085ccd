/**
 * The embedding examples in real Chromium: the React app calls the plain page while the plain page
 * carries hostile global CSS (the kit still renders and works: shadow DOM).
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { RunningServer } from '@opencall/server';
import { browserSkip, poll, startWebServer, waitConnected, waitIncoming, waitOutcome } from '../../../test/helpers/browser.js';
import type { AppPage } from '../../../test/helpers/browser.js';
import { launchKitChromium, openExample } from '../../../test/helpers/kit.js';

const HOSTILE = '* { all: unset } div { display: none !important } button { visibility: hidden } video { display: none }';

describe('call kit: embedding examples and hostile CSS', { skip: browserSkip('call kit e2e (embed)'), timeout: 240_000 }, () => {
  let server: RunningServer;
  let browser: Browser;
  let pages: AppPage[] = [];

  before(async () => {
    // Not about heartbeats: a roomy window keeps a loaded machine from dropping a page.
    server = await startWebServer({ defaultRingTimeoutSeconds: 30, heartbeatTimeoutMs: 15_000 });
    browser = await launchKitChromium();
  });
  afterEach(async () => {
    await Promise.all(pages.map((p) => p.context.close().catch(() => undefined)));
    pages = [];
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the React example calls the plain example whose page has hostile global CSS', async () => {
    const react = await openExample(browser, server, 'react', 'e_react');
    const plain = await openExample(browser, server, 'plain', 'e_plain', { hostileCss: HOSTILE });
    pages.push(react, plain);
    // The host page is wrecked by its own CSS…
    assert.equal(await plain.page.locator('#counter').isVisible(), false);
    await react.page.getByLabel('User ID').fill('e_plain');
    await react.page.getByRole('button', { name: 'Audio call' }).click();
    // …but the kit's ring screen renders and answers.
    assert.equal(await waitIncoming(plain), 'e_react');
    const accept = plain.page.getByRole('button', { name: 'Accept audio call' });
    const b = await accept.boundingBox();
    assert.ok(b && b.width >= 60 && b.height >= 60, `accept button box ${JSON.stringify(b)}`);
    await accept.click();
    await waitConnected(plain);
    await waitConnected(react);
    await plain.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(react), 'e_plain hung up');
    // The React app's afterCalling hook ran once the end card closed.
    await poll(() => react.page.locator('#finished').textContent(), (t) => t === '1', 10_000);
    assert.equal(await react.page.locator('#finished').textContent(), '1');
    assert.deepEqual([...react.errors, ...plain.errors], []);
  });
});
