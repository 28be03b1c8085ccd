/**
 * The calling page in real Chromium against a real server, 1-to-1: a video call where each side
 * sees the other's video playing, the same from the dialer's camera check, a decline, a missed call in history, a mute the other side sees,
 * and a busy callee. Every test also checks the pages logged no console error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { browserSkip, dial, framesOf, poll, signIn, waitConnected, waitIncoming, waitOutcome } from '../../../test/helpers/browser.js';
import type { AppPage } from '../../../test/helpers/browser.js';
import { useBrowserSuite } from '../../../test/helpers/browserSuite.js';

describe('web app: 1-to-1 calls in Chromium', { skip: browserSkip('web app e2e (1-to-1)'), timeout: 180_000 }, () => {
  const suite = useBrowserSuite();

  /** Opens and signs in one page per [userId, nickname]. */
  async function people(...who: [string, string][]): Promise<AppPage[]> {
    const apps = await Promise.all(who.map(() => suite.newPage()));
    for (const [i, [id, name]] of who.entries()) await signIn(apps[i]!, id, name);
    return apps;
  }

  function noErrors(): void {
    assert.deepEqual(suite.pages.flatMap((p) => p.errors), []);
  }

  it('video call: each page shows the other person video playing, and the own preview', async () => {
    const [alice, bob] = await people(['v_alice', 'Alice'], ['v_bob', 'Bob']);
    await dial(alice!, ['v_bob'], 'video');
    assert.equal(await waitIncoming(bob!), 'Alice');
    assert.match((await bob!.page.locator('#incoming-kind').textContent()) ?? '', /video call/);
    await bob!.page.getByRole('button', { name: 'Accept video call' }).click();
    await waitConnected(alice!);
    await waitConnected(bob!);

    const aSeesB = await poll(() => framesOf(alice!, 'v_bob'), (n) => n > 5, 15_000);
    const bSeesA = await poll(() => framesOf(bob!, 'v_alice'), (n) => n > 5, 15_000);
    assert.ok(aSeesB > 5, `alice decoded ${aSeesB} frames of bob`);
    assert.ok(bSeesA > 5, `bob decoded ${bSeesA} frames of alice`);
    // The remote tile shows the video (not the avatar), the own preview plays too.
    await alice!.page.locator('.tile[data-user="v_bob"][data-video="on"]').waitFor();
    assert.ok((await framesOf(alice!, 'v_alice')) > 0, 'own preview plays');

    await bob!.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(alice!), 'Bob hung up');
    noErrors();
  });

  it('the dialer box "check my camera and microphone": the video call starts from the preview; the choice is remembered', async () => {
    const [alice, bob] = await people(['pv_alice', 'Alice'], ['pv_bob', 'Bob']);
    const box = alice!.page.getByLabel('Check my camera and microphone before a video call');
    assert.equal(await box.isChecked(), false, 'off by default');
    await box.check();
    await dial(alice!, ['pv_bob'], 'video');
    await alice!.page.locator('.call[data-phase="preview"]').waitFor();
    assert.ok((await poll(() => framesOf(alice!, 'pv_alice'), (n) => n > 5, 15_000)) > 5, 'own camera in the preview');
    assert.equal(await bob!.page.locator('.incoming').isVisible(), false, 'nothing rings before Start');
    await alice!.page.getByRole('button', { name: 'Start the video call' }).click();
    assert.equal(await waitIncoming(bob!), 'Alice');
    await bob!.page.getByRole('button', { name: 'Accept video call' }).click();
    await waitConnected(alice!);
    // The page offers the floating window (and the browser's picture-in-picture window).
    assert.ok(await alice!.page.getByRole('button', { name: 'Minimise the call to a floating window' }).isVisible());
    assert.ok(await alice!.page.getByRole('button', { name: 'Open the call in a picture-in-picture window' }).isVisible());
    await alice!.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(bob!), 'Alice hung up');
    noErrors();
    await alice!.page.reload();
    await signIn(alice!, 'pv_alice', 'Alice');
    assert.equal(await alice!.page.getByLabel('Check my camera and microphone before a video call').isChecked(), true, 'remembered');
  });

  it('decline: the caller reads "<name> declined", the callee "Call declined"', async () => {
    const [alice, bob] = await people(['r_alice', 'Alice'], ['r_bob', 'Bob']);
    await dial(alice!, ['r_bob'], 'audio');
    await waitIncoming(bob!);
    await bob!.page.getByRole('button', { name: 'Decline call' }).click();
    assert.equal(await waitOutcome(alice!), 'Bob declined');
    assert.equal(await waitOutcome(bob!), 'Call declined');
    // "Call again" is offered to the caller of a failed call.
    await alice!.page.getByRole('button', { name: 'Call again' }).waitFor();
    noErrors();
  });

  it('missed call: no answer for the caller, a missed entry in the callee history with call back', async () => {
    await suite.withServer({ defaultRingTimeoutSeconds: 2 }, async (quick) => {
      const [alice, bob] = await Promise.all([suite.newPage({ server: quick }), suite.newPage({ server: quick })]);
      await signIn(alice, 'm_alice', 'Alice');
      await signIn(bob, 'm_bob', 'Bob');
      await dial(alice, ['m_bob'], 'video');
      await waitIncoming(bob);
      assert.equal(await waitOutcome(alice), 'No answer');
      assert.equal(await waitOutcome(bob), 'Missed call from Alice');
      await bob.page.getByRole('button', { name: 'OK' }).click();

      // The history tab carries a badge and lists the missed call.
      await bob.page.getByRole('tab', { name: 'History, 1 missed' }).click();
      const row = bob.page.locator('.history-item[data-result="missed"]');
      await row.waitFor();
      assert.equal(await row.locator('.history-name').textContent(), 'Alice');
      assert.match((await row.locator('.history-text').textContent()) ?? '', /Missed video/);
      await bob.page.getByRole('button', { name: 'Missed', exact: true }).click();
      assert.equal(await bob.page.locator('.history-item').count(), 1);

      // Alice's side: an outgoing call that was not answered; delete removes it.
      await alice.page.getByRole('button', { name: 'OK' }).click();
      await alice.page.getByRole('tab', { name: 'History' }).click();
      const out = alice.page.locator('.history-item[data-result="outgoing"]');
      await out.waitFor();
      assert.match((await out.locator('.history-text').textContent()) ?? '', /not answered/);
      await alice.page.getByRole('button', { name: 'Delete call with Bob' }).click();
      await out.waitFor({ state: 'detached' });

      // Call back from the missed entry rings Alice.
      await bob.page.getByRole('button', { name: 'Call back Alice (video)' }).click();
      assert.equal(await waitIncoming(alice), 'Bob');
      await alice.page.getByRole('button', { name: 'Decline call' }).click();
      await waitOutcome(bob);
      noErrors();
    });
  });

  it('mute: the other side sees the microphone-off mark come and go', async () => {
    const [alice, bob] = await people(['u_alice', 'Alice'], ['u_bob', 'Bob']);
    await dial(alice!, ['u_bob'], 'audio');
    await waitIncoming(bob!);
    await bob!.page.getByRole('button', { name: 'Accept audio call' }).click();
    await waitConnected(alice!);
    await waitConnected(bob!);
    const aliceTileAtBob = bob!.page.locator('.tile[data-user="u_alice"]');
    assert.equal(await aliceTileAtBob.getAttribute('data-muted'), 'false');

    await alice!.page.getByRole('button', { name: 'Mute microphone' }).click();
    await alice!.page.getByRole('button', { name: 'Unmute microphone' }).waitFor();
    await bob!.page.locator('.tile[data-user="u_alice"][data-muted="true"]').waitFor({ timeout: 5000 });
    assert.ok(await aliceTileAtBob.getByRole('img', { name: 'Microphone off' }).isVisible());

    await alice!.page.getByRole('button', { name: 'Unmute microphone' }).click();
    await bob!.page.locator('.tile[data-user="u_alice"][data-muted="false"]').waitFor({ timeout: 5000 });
    await alice!.page.getByRole('button', { name: 'Hang up' }).click();
    await waitOutcome(bob!);
    noErrors();
  });

  it('busy: calling someone who is on another call reads "<name> is busy" and their call goes on', async () => {
    const [alice, bob, carol] = await people(['b_alice', 'Alice'], ['b_bob', 'Bob'], ['b_carol', 'Carol']);
    await dial(bob!, ['b_carol'], 'audio');
    await waitIncoming(carol!);
    await carol!.page.getByRole('button', { name: 'Accept audio call' }).click();
    await waitConnected(bob!);

    await dial(alice!, ['b_bob'], 'audio');
    assert.equal(await waitOutcome(alice!), 'Bob is busy');
    assert.match((await alice!.page.locator('.outcome-detail').textContent()) ?? '', /on another call/);
    // Bob was never rung and is still talking to Carol.
    assert.equal(await bob!.page.locator('.incoming:not([hidden])').count(), 0);
    await waitConnected(bob!);
    await bob!.page.getByRole('button', { name: 'Hang up' }).click();
    await waitOutcome(carol!);
    noErrors();
  });
});
