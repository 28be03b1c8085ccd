/**
 * Issue 2 smoke test: the client bundled by Vite (the web app) runs in real Chromium. Two pages
 * sign in against a real server and complete a call: ring → accept → connected → hang up.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { browserSkip, dial, signIn, waitConnected, waitIncoming, waitOutcome } from './helpers/browser.js';
import { useBrowserSuite } from './helpers/browserSuite.js';

describe('browser smoke: the Vite-bundled client in Chromium', { skip: browserSkip('browser smoke test'), timeout: 120_000 }, () => {
  const suite = useBrowserSuite();

  it('two pages sign in, ring, accept, talk and hang up', async () => {
    const alice = await suite.newPage();
    const bob = await suite.newPage();
    assert.match((await alice.page.locator('.dev-banner').textContent()) ?? '', /Development mode/);
    await signIn(alice, 'alice', 'Alice Martin');
    await signIn(bob, 'bob', 'Bob Stone');

    await dial(alice, ['bob'], 'audio');
    await alice.page.locator('.call[data-phase="outgoing"]').waitFor();
    // Bob's ring screen names the caller by the nickname Alice published with setSelfInfo.
    assert.equal(await waitIncoming(bob), 'Alice Martin');
    assert.match((await bob.page.locator('#incoming-kind').textContent()) ?? '', /Incoming audio call/);

    await bob.page.getByRole('button', { name: 'Accept audio call' }).click();
    await waitConnected(alice);
    await waitConnected(bob);
    // Each side names the other (profiles from getUserProfiles / callerProfile).
    assert.equal(await alice.page.locator('.call-title').textContent(), 'Bob Stone');
    assert.equal(await bob.page.locator('.call-title').textContent(), 'Alice Martin');

    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(alice), 'Call ended');
    assert.equal(await waitOutcome(bob), 'Alice Martin hung up');
    // The end card goes away by itself: both are back home, ready for the next call.
    await alice.page.getByRole('heading', { name: 'New call' }).waitFor({ state: 'visible', timeout: 6000 });
    await bob.page.locator('.outcome').waitFor({ state: 'hidden', timeout: 6000 });
    assert.deepEqual([...alice.errors, ...bob.errors], []);
  });
});
