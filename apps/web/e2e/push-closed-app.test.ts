/**
 * Offline push with NO page of the app open, in real Chromium (SPEC §9): the server's push (caught
 * by a local push service) is delivered to the service worker with CDP
 * `ServiceWorker.deliverPushMessage`; the worker's notification goes to a desktop notification
 * service on a private D-Bus (test/helpers/notificationDaemon.ts), where the test presses Accept or
 * Decline as a person would. Chromium then dispatches a real `notificationclick` (with the user
 * activation `clients.openWindow` needs): Accept opens the app, which signs in with the remembered
 * identity and answers, and the caller sees the call connect; Decline rejects without any page.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH, browserSkip, poll, signIn, startWebServer, waitConnected, waitOutcome } from '../../../test/helpers/browser.js';
import type { AppPage } from '../../../test/helpers/browser.js';
import { NotificationDaemon, notificationSkip } from '../../../test/helpers/notificationDaemon.js';
import { LocalPushService } from '../../../test/helpers/pushService.js';
import { Recorder } from '../../../test/helpers/users.js';

const skip = browserSkip('web app e2e (push, app closed)') || notificationSkip('web app e2e (push, app closed)');

describe('web app: a notification answers a call while no page of the app is open', { skip, timeout: 180_000 }, () => {
  let server: RunningServer;
  let push: LocalPushService;
  let daemon: NotificationDaemon;
  let context: BrowserContext;
  let profile: string;
  /** A tab that is not the app: it holds the CDP session that delivers pushes. */
  let blank: Page;
  let cdp: CDPSession;
  /** Service worker registration ids by scope, from CDP. */
  const registrations = new Map<string, string>();
  const engines: CallEngine[] = [];
  const errors: string[] = [];

  before(async () => {
    push = await new LocalPushService().start();
    server = await startWebServer({ defaultRingTimeoutSeconds: 30, push: { allowHttpEndpoints: true } });
    daemon = await NotificationDaemon.start();
    profile = mkdtempSync(join(tmpdir(), 'opencall-chromium-'));
    // A persistent profile: Chromium routes a desktop notification's click back to it (see the helper).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      headless: true,
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: daemon.address },
      permissions: ['camera', 'microphone', 'notifications'],
      viewport: { width: 400, height: 820 },
      timeout: 30_000,
    });
    context.on('page', (p) => {
      p.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console: ${m.text()}`);
      });
      p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    });
    blank = context.pages()[0] ?? (await context.newPage());
    cdp = await context.newCDPSession(blank);
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: { registrationId: string; scopeURL: string; isDeleted?: boolean }[] }) => {
      for (const r of e.registrations) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId);
    });
    await cdp.send('ServiceWorker.enable');
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.unInit().catch(() => undefined)));
  });
  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await daemon?.close();
    await server?.close();
    await push?.close();
  });

  /** A Node engine signed in through the dev sig endpoint. */
  async function engineFor(userId: string): Promise<{ engine: CallEngine; rec: Recorder }> {
    const res = await fetch(`${server.url}/dev/usersig`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
    const { userSig } = (await res.json()) as { userSig: string };
    const engine = new CallEngine({ serverUrl: server.url, sdkAppId: server.config.sdkAppId });
    const rec = new Recorder();
    engine.addObserver(rec.observer);
    await engine.init(userId, userSig);
    engines.push(engine);
    return { engine, rec };
  }

  /** The app's pages open in the browser now. */
  const appPages = (): Page[] => context.pages().filter((p) => p.url().startsWith(server.url));

  /**
   * `userId` signs in once in a tab of the app (the worker is registered, the identity remembered),
   * their push registration points at the local push service, and the tab is closed: the app is closed.
   */
  async function closedAppFor(userId: string, nickname: string): Promise<string> {
    const page = await context.newPage();
    const app: AppPage = { page, context, errors };
    await page.goto(server.url + '/');
    await signIn(app, userId, nickname);
    // A push delivered before the worker is active is dropped: wait for activation.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    const registrationId = await poll(async () => registrations.get(`${server.url}/`), (v) => v !== undefined, 20_000);
    assert.ok(registrationId, 'the service worker registered');
    const { engine } = await engineFor(userId);
    await engine.registerPush({ type: 'webpush', subscription: push.subscribe() });
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await engine.unInit();
    await page.close();
    assert.deepEqual(appPages(), [], 'no page of the app is open');
    return registrationId;
  }

  /** Relays the server's push for `callId` to the worker, as the browser's push service would. */
  async function deliverInvite(registrationId: string, callerId: string): Promise<string> {
    const { payload } = await push.waitFor((p) => p.payload['callerId'] === callerId && p.payload['type'] === 'call.invite', 15_000);
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId, data: JSON.stringify(payload) });
    return String(payload['callId']);
  }

  it('Accept on the notification opens the app, which signs in and answers; the caller sees the call connect', async () => {
    const registrationId = await closedAppFor('nc_bob', 'Bob');
    const alice = await engineFor('nc_alice');
    await alice.engine.setSelfInfo('Alice', '');
    const { callId } = await alice.engine.calls(['nc_bob'], CallMediaType.audio);
    assert.equal(await deliverInvite(registrationId, 'nc_alice'), callId);
    const note = await daemon.waitFor((n) => n.summary === 'Alice' && !n.closed);
    assert.match(note.body, /Incoming audio call/);
    assert.deepEqual(
      note.actions.filter((a) => /^\d+$/.test(a.key)).map((a) => a.label),
      ['Accept', 'Decline'],
    );

    const opened = context.waitForEvent('page', { timeout: 15_000 });
    daemon.click(note.id, 'Accept');
    const page = await opened;
    // The worker opened the app with ?accept=<callId>; the page removes it once read.
    assert.ok(page.url().startsWith(`${server.url}/`), page.url());
    await alice.rec.waitFor('onCallBegin', () => true, 20_000);
    await alice.rec.waitFor('onUserJoin', (a) => a[0] === 'nc_bob', 10_000);
    await waitConnected({ page, context, errors });
    assert.equal(new URL(page.url()).searchParams.get('accept'), null);
    await poll(async () => daemon.shown.find((n) => n.id === note.id)?.closed, (c) => c === true);
    assert.equal(daemon.shown.find((n) => n.id === note.id)?.closed, true, 'the notification was closed');
    // The trace tells the same story: notification shown, then the opened app rang, showed it and answered.
    const steps = (await alice.engine.getCallTrace(callId)).filter((s) => s.userId === 'nc_bob').map((s) => s.step);
    assert.deepEqual(
      steps.filter((s) => ['notification.shown', 'rung', 'received', 'accepted'].includes(s)),
      ['notification.shown', 'rung', 'received', 'accepted'],
      steps.join(', '),
    );
    await alice.engine.hangup();

    // Bob's own Details of that call: in his words, the notification, then this browser.
    const bobApp: AppPage = { page, context, errors };
    await waitOutcome(bobApp);
    await page.getByRole('button', { name: 'OK' }).click();
    await page.getByRole('tab', { name: /^History/ }).click();
    const lines = await poll(
      async () => {
        const row = page.locator(`.history-item[data-call-id="${callId}"]`);
        await row.waitFor();
        await row.getByRole('button', { name: /^Details of the call/ }).click();
        const panel = page.getByRole('dialog', { name: 'Call details' });
        const mine = panel.locator('.details-person[data-user="nc_bob"]');
        await mine.locator('.trace-step').first().waitFor();
        const texts = await mine.locator('.trace-text').allTextContents();
        await panel.getByRole('button', { name: 'Close details' }).click();
        return texts;
      },
      (t) => t.filter((x) => x.startsWith('Push')).length === 2,
      15_000,
      300,
    );
    for (const expected of [
      'You had no app open, so a push notification was prepared.',
      'Your device showed the call notification.',
      'Rang on your open app (this browser).',
      'Your app showed the incoming call (this browser).',
      'You answered (this browser).',
      'The invitation ended (answered), so a push to take the notification back was prepared.',
    ]) {
      assert.ok(lines.includes(expected), `"${expected}" in ${JSON.stringify(lines)}`);
    }
    await page.close();
    assert.deepEqual(errors, []);
  });

  it('Decline on the notification rejects the call without opening anything', async () => {
    const registrationId = await closedAppFor('nd_bob', 'Bob');
    const alice = await engineFor('nd_alice');
    await alice.engine.setSelfInfo('Alice', '');
    await alice.engine.calls(['nd_bob'], CallMediaType.video);
    await deliverInvite(registrationId, 'nd_alice');
    const note = await daemon.waitFor((n) => n.summary === 'Alice' && /Incoming video call/.test(n.body) && !n.closed);
    daemon.click(note.id, 'Decline');
    await alice.rec.waitFor('onUserReject', (a) => a[0] === 'nd_bob', 15_000);
    assert.deepEqual(appPages(), [], 'Decline opened no page');
    assert.deepEqual(errors, []);
  });
});
