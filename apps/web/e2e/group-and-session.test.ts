/**
 * The calling page in real Chromium: a group video call of three where everyone sees everyone, and
 * the session outcomes a person must understand (signed in elsewhere).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { RunningServer } from '@opencall/server';
import { browserSkip, dial, framesOf, poll, signIn, waitConnected, waitIncoming, waitOutcome } from '../../../test/helpers/browser.js';
import type { AppPage } from '../../../test/helpers/browser.js';
import { useBrowserSuite } from '../../../test/helpers/browserSuite.js';

/** Skips the SFU variant without Janus (loudly), except under CI=true where a missing Janus fails. */
function janusSkip(): string | false {
  if (existsSync('/usr/bin/janus') || process.env.CI === 'true') return false;
  const reason = 'SKIPPED browser group call through Janus: no /usr/bin/janus (apt-get install janus)';
  console.warn(`\n!!! ${reason} !!!\n`);
  return reason;
}

describe('web app: group calls and sessions in Chromium', { skip: browserSkip('web app e2e (group, session)'), timeout: 180_000 }, () => {
  const suite = useBrowserSuite();

  /** n pages of the app on `on` (the suite's server by default). */
  function open(n: number, on?: RunningServer): Promise<AppPage[]> {
    return Promise.all(Array.from({ length: n }, () => suite.newPage({ server: on })));
  }

  /** Alice video-calls Bob and Carol on `on`; everyone must see both others; then people leave. */
  async function groupCallOfThree(on: RunningServer): Promise<void> {
    const [alice, bob, carol] = (await open(3, on)) as [AppPage, AppPage, AppPage];
    await signIn(alice, 'g_alice', 'Alice');
    await signIn(bob, 'g_bob', 'Bob');
    await signIn(carol, 'g_carol', 'Carol');
    await dial(alice, ['g_bob', 'g_carol'], 'video');
    await waitIncoming(bob);
    await bob.page.locator('.incoming .with', { hasText: 'Group call with Carol' }).waitFor();
    await waitIncoming(carol);
    await bob.page.getByRole('button', { name: 'Accept video call' }).click();
    await carol.page.getByRole('button', { name: 'Accept video call' }).click();
    for (const p of [alice, bob, carol]) await waitConnected(p);

    const ids = { alice: 'g_alice', bob: 'g_bob', carol: 'g_carol' };
    const views: [string, AppPage, string][] = [
      ['alice', alice, ids.bob], ['alice', alice, ids.carol],
      ['bob', bob, ids.alice], ['bob', bob, ids.carol],
      ['carol', carol, ids.alice], ['carol', carol, ids.bob],
    ];
    for (const [viewer, app, other] of views) {
      const frames = await poll(() => framesOf(app, other), (n) => n > 5, 20_000);
      assert.ok(frames > 5, `${viewer}'s page decoded ${frames} frames of ${other}`);
    }
    // A grid of three tiles (own tile included) on every page.
    for (const p of [alice, bob, carol]) assert.equal(await p.page.locator('.stage[data-layout="grid"] .tile:not([data-slot="hidden"])').count(), 3);

    // Alice leaves: the call goes on for Bob and Carol, who are told.
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(alice), 'Call ended');
    await bob.page.locator('.toast', { hasText: 'Alice left the call' }).waitFor();
    await bob.page.locator('.tile[data-user="g_alice"]').waitFor({ state: 'detached' });
    await waitConnected(carol);
    await carol.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(bob), 'Carol hung up');
    assert.deepEqual(suite.pages.flatMap((p) => p.errors), []);
  }

  it('group video call of three (mesh): each page shows both others playing', async () => {
    assert.equal(((await (await fetch(`${suite.server.url}/healthz`)).json()) as { sfu: string }).sfu, 'mesh');
    await groupCallOfThree(suite.server);
  });

  it('group video call of three through the Janus SFU: each page shows both others playing', { skip: janusSkip() }, async () => {
    await suite.withServer({ sfu: 'auto' }, async (withSfu) => {
      assert.equal(((await (await fetch(`${withSfu.url}/healthz`)).json()) as { sfu: string }).sfu, 'janus');
      await groupCallOfThree(withSfu);
    });
  });

  it('signed in elsewhere: the first tab says so and offers to sign in again', async () => {
    const [first, second] = (await open(2)) as [AppPage, AppPage];
    await signIn(first, 'k_alice', 'Alice');
    await signIn(second, 'k_alice', 'Alice');
    const notice = first.page.locator('.signin .notice');
    await notice.waitFor();
    assert.match((await notice.textContent()) ?? '', /signed in on another device or tab/);
    // The form is prefilled: one click signs this tab back in (and the other one out).
    await first.page.getByRole('button', { name: 'Sign in' }).click();
    await first.page.getByRole('heading', { name: 'New call' }).waitFor();
    await second.page.locator('.signin .notice').waitFor();
    assert.deepEqual(suite.pages.flatMap((p) => p.errors), []);
  });

  it('a bad user id is refused in the dialer with a message, and calling works after', async () => {
    const [alice] = (await open(1)) as [AppPage];
    await signIn(alice, 'x_alice', 'Alice');
    await alice.page.locator('#dial-input').fill('not valid!');
    await alice.page.getByRole('button', { name: 'Start audio call' }).click();
    assert.match((await alice.page.locator('#dial-input-error').textContent()) ?? '', /is not a user ID/);
    await alice.page.locator('#dial-input').fill('x_alice');
    await alice.page.getByRole('button', { name: 'Start audio call' }).click();
    assert.match((await alice.page.locator('#dial-input-error').textContent()) ?? '', /That is you/);
    assert.equal(await alice.page.locator('.call:not([hidden])').count(), 0);
    assert.deepEqual(suite.pages.flatMap((p) => p.errors), []);
  });

  it('keyboard only: sign in, dial, answer with Enter, hang up; every button has a name', async () => {
    const [alice, bob] = (await open(2)) as [AppPage, AppPage];
    // Alice signs in with the keyboard: the user id field has the focus on load (wait for the
    // page's script to have put it there — typing earlier would go nowhere on a loaded machine).
    await alice.page.waitForFunction(() => document.activeElement?.id === 'signin-user');
    await alice.page.keyboard.type('kb_alice');
    await alice.page.keyboard.press('Tab');
    await alice.page.keyboard.type('Alice');
    await alice.page.keyboard.press('Enter');
    await alice.page.getByRole('heading', { name: 'New call' }).waitFor();
    await signIn(bob, 'kb_bob', 'Bob');

    // The dialer has the focus: type an id, Enter makes a chip, Enter again places a video call.
    await alice.page.keyboard.type('kb_bob');
    await alice.page.keyboard.press('Enter');
    await alice.page.keyboard.press('Enter');
    await waitIncoming(bob);
    // The ring screen focuses Accept: Enter answers.
    await bob.page.keyboard.press('Enter');
    await waitConnected(alice);
    await waitConnected(bob);

    for (const p of [alice, bob]) {
      // The page's buttons and the call kit's (in its shadow root).
      const unnamed = await p.page.evaluate(() =>
        [...document.querySelectorAll('button'), ...(document.querySelector('opencall-callkit')?.shadowRoot?.querySelectorAll('button') ?? [])]
          .filter((b) => !(b.getAttribute('aria-label') ?? b.textContent ?? '').trim())
          .map((b) => b.outerHTML.slice(0, 80)),
      );
      assert.deepEqual(unnamed, [], 'buttons without an accessible name');
    }
    // The call screen focuses Hang up: Enter ends the call.
    await alice.page.keyboard.press('Enter');
    assert.equal(await waitOutcome(bob), 'Alice hung up');
    assert.deepEqual(suite.pages.flatMap((p) => p.errors), []);
  });

  it('two tabs of one user (policy multi): both ring, one answers, the other reads "Answered on another device"', async () => {
    await suite.withServer({ devicePolicy: 'multi' }, async (multi) => {
      const [alice, bobPhone, bobLaptop] = (await open(3, multi)) as [AppPage, AppPage, AppPage];
      await signIn(alice, 'd_alice', 'Alice');
      await signIn(bobPhone, 'd_bob', 'Bob');
      await signIn(bobLaptop, 'd_bob', 'Bob');
      await dial(alice, ['d_bob'], 'audio');
      await waitIncoming(bobPhone);
      await waitIncoming(bobLaptop);
      await bobPhone.page.getByRole('button', { name: 'Accept audio call' }).click();
      assert.equal(await waitOutcome(bobLaptop), 'Answered on another device');
      await waitConnected(alice);
      await bobPhone.page.getByRole('button', { name: 'Hang up' }).click();
      assert.equal(await waitOutcome(alice), 'Bob hung up');
      assert.deepEqual(suite.pages.flatMap((p) => p.errors), []);
    });
  });
});
