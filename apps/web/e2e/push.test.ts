/**
 * The web app's service worker in real Chromium (SPEC §9): pushes the server really sent (captured
 * by a local push service that decrypts them) are delivered to the worker through the DevTools
 * protocol (`ServiceWorker.deliverPushMessage`); the shown notifications are read through
 * `registration.getNotifications()`; Accept and Decline go through the worker's `notificationclick`
 * handler, and the caller sees the call accepted or declined. The history's "Details" shows the
 * call's delivery trace in words, for a call to an open app and one to a closed app with push.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { CDPSession, Worker } from 'playwright-core';
import { CallEngine, CallMediaType } from '@opencall/client';
import { browserSkip, dial, poll, signIn, waitConnected, waitOutcome } from '../../../test/helpers/browser.js';
import type { AppPage } from '../../../test/helpers/browser.js';
import { useBrowserSuite } from '../../../test/helpers/browserSuite.js';
import { LocalPushService } from '../../../test/helpers/pushService.js';
import { Recorder } from '../../../test/helpers/users.js';

/** What the worker scope offers these tests (the DOM lib has no worker-scope types). */
interface NotificationLike {
  title: string;
  body: string;
  tag: string;
  actions?: { action: string }[];
}
interface WorkerScope {
  registration: { getNotifications(): Promise<NotificationLike[]> };
  dispatchEvent(e: Event): boolean;
}
type NotificationEventCtor = new (type: string, init: { notification: NotificationLike; action: string }) => Event;

interface Shown {
  title: string;
  body: string;
  tag: string;
  actions: string[];
}

describe('web app: offline push in Chromium', { skip: browserSkip('web app e2e (push)'), timeout: 180_000 }, () => {
  let push: LocalPushService;
  const engines: CallEngine[] = [];

  // Registered before the suite's hooks: the push service starts before the server, and the Node
  // engines sign out before the pages close.
  before(async () => {
    push = await new LocalPushService().start();
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.unInit().catch(() => undefined)));
  });
  const suite = useBrowserSuite({ server: { defaultRingTimeoutSeconds: 30, push: { allowHttpEndpoints: true } } });
  // After the suite's: the push service stops once Chromium and the server have.
  after(async () => {
    await push.close();
  });

  /** A Node engine signed in through the dev sig endpoint. */
  async function engineFor(userId: string): Promise<{ engine: CallEngine; rec: Recorder }> {
    const { server } = suite;
    const { userSig } = (await (await fetch(`${server.url}/dev/usersig`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) })).json()) as { userSig: string };
    const engine = new CallEngine({ serverUrl: server.url, sdkAppId: server.config.sdkAppId });
    const rec = new Recorder();
    engine.addObserver(rec.observer);
    await engine.init(userId, userSig);
    engines.push(engine);
    return { engine, rec };
  }

  /**
   * bob's page signs in (registering the worker), then is signed out: the app is "closed" for the
   * server. Chromium here has no push service of its own, so bob's registration points at the local
   * push service, which captures what the server sends; the test relays it to the worker by CDP.
   */
  async function bobWithWorker(userId: string): Promise<{ app: AppPage; worker: Worker; cdp: CDPSession; registrationId: string }> {
    const app = await suite.newPage();
    const cdp = await app.context.newCDPSession(app.page);
    await cdp.send('ServiceWorker.enable');
    const regs = new Map<string, string>();
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: { registrationId: string; scopeURL: string }[] }) => {
      for (const r of e.registrations) regs.set(r.scopeURL, r.registrationId);
    });
    await signIn(app, userId, 'Bob');
    const worker = app.context.serviceWorkers()[0] ?? (await app.context.waitForEvent('serviceworker'));
    // A push delivered before the worker is active is dropped: wait for activation (slow on a loaded machine).
    await app.page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    const registrationId = await poll(async () => regs.get(`${suite.server.url}/`), (v) => v !== undefined);
    const { engine } = await engineFor(userId);
    await engine.registerPush({ type: 'webpush', subscription: push.subscribe() });
    // Signing in elsewhere signed the page out (devicePolicy 'kick'); the engine then signs out too.
    await app.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await engine.unInit();
    return { app, worker, cdp, registrationId: registrationId! };
  }

  const deliver = async (cdp: CDPSession, registrationId: string, payload: Record<string, unknown>): Promise<void> => {
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: suite.server.url, registrationId, data: JSON.stringify(payload) });
  };
  const shown = (worker: Worker): Promise<Shown[]> =>
    worker.evaluate(async () => {
      const sw = self as unknown as WorkerScope;
      const list = await sw.registration.getNotifications();
      return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, actions: (n.actions ?? []).map((a) => a.action) }));
    });
  const click = (worker: Worker, action: string): Promise<void> =>
    worker.evaluate(async (act) => {
      const sw = self as unknown as WorkerScope;
      const [n] = await sw.registration.getNotifications();
      if (!n) throw new Error('no notification to click');
      const Ctor = (self as unknown as { NotificationEvent: NotificationEventCtor }).NotificationEvent;
      sw.dispatchEvent(new Ctor('notificationclick', { notification: n, action: act }));
    }, action);
  const pushOf = async (callId: string, type: string): Promise<Record<string, unknown>> =>
    (await push.waitFor((p) => p.payload['callId'] === callId && p.payload['type'] === type)).payload;

  it('invite shows Accept/Decline; Decline rejects through the action token; the withdrawal closes it', async () => {
    const { worker, cdp, registrationId } = await bobWithWorker('sw_bob');
    const alice = await engineFor('sw_alice');
    await alice.engine.setSelfInfo('Alice', '');
    const { callId } = await alice.engine.calls(['sw_bob'], CallMediaType.video);
    await deliver(cdp, registrationId, await pushOf(callId, 'call.invite'));
    const list = await poll(() => shown(worker), (l) => l.length === 1, 30_000);
    assert.deepEqual(list, [{ title: 'Alice', body: 'Incoming video call', tag: callId, actions: ['accept', 'decline'] }]);
    await click(worker, 'decline');
    await alice.rec.waitFor('onUserReject', (a) => a[0] === 'sw_bob');
    await deliver(cdp, registrationId, await pushOf(callId, 'call.withdraw'));
    await poll(() => shown(worker), (l) => l.length === 0, 30_000);
  });

  it('a canceled call turns the notification into "Missed call from Alice"', async () => {
    const { worker, cdp, registrationId } = await bobWithWorker('sm_bob');
    const alice = await engineFor('sm_alice');
    await alice.engine.setSelfInfo('Alice', '');
    const { callId } = await alice.engine.calls(['sm_bob'], CallMediaType.audio);
    await deliver(cdp, registrationId, await pushOf(callId, 'call.invite'));
    await poll(() => shown(worker), (l) => l.length === 1 && l[0]!.body === 'Incoming audio call', 30_000);
    await alice.engine.hangup();
    await deliver(cdp, registrationId, await pushOf(callId, 'call.withdraw'));
    const list = await poll(() => shown(worker), (l) => l.length === 1 && l[0]!.body.startsWith('Missed'), 30_000);
    assert.deepEqual(list.map((n) => [n.title, n.body, n.tag]), [['Alice', 'Missed call from Alice', callId]]);
  });

  it('Accept: the open page signs in with the remembered identity and answers; the caller sees the call begin', async () => {
    const { app, worker, cdp, registrationId } = await bobWithWorker('sa_bob');
    const alice = await engineFor('sa_alice');
    const { callId } = await alice.engine.calls(['sa_bob'], CallMediaType.audio);
    await deliver(cdp, registrationId, await pushOf(callId, 'call.invite'));
    await poll(() => shown(worker), (l) => l.length === 1, 30_000);
    await click(worker, 'accept');
    await alice.rec.waitFor('onCallBegin', () => true, 15_000);
    await alice.rec.waitFor('onUserJoin', (a) => a[0] === 'sa_bob');
    assert.deepEqual(app.errors, []);
    await alice.engine.hangup();
  });

  /** A step of the Details panel: its trace step name and its sentence. */
  interface DetailLine {
    step: string;
    text: string;
  }

  /**
   * Opens History → the row of `callId` → Details, and reads `userId`'s section. The trace may
   * still grow after the call ended (the withdrawal push), so Details is closed and opened again
   * until `ok` accepts what it shows, as a person would.
   */
  async function readDetails(app: AppPage, callId: string, userId: string, ok: (lines: DetailLine[]) => boolean): Promise<{ verdict: string; lines: DetailLine[]; people: number }> {
    const { page } = app;
    await page.getByRole('tab', { name: /^History/ }).click();
    const row = page.locator(`.history-item[data-call-id="${callId}"]`);
    await row.waitFor();
    const read = async (): Promise<{ verdict: string; lines: DetailLine[]; people: number }> => {
      await row.getByRole('button', { name: /^Details of the call with/ }).click();
      const panel = page.getByRole('dialog', { name: 'Call details' });
      await panel.waitFor();
      const person = panel.locator(`.details-person[data-user="${userId}"]`);
      await person.waitFor();
      const verdict = (await person.locator('.details-verdict').textContent()) ?? '';
      const lines = await person.locator('.trace-step').evaluateAll((els) =>
        els.map((e) => ({ step: (e as HTMLElement).dataset['step'] ?? '', text: e.querySelector('.trace-text')?.textContent ?? '' })),
      );
      const people = await panel.locator('.details-person').count();
      await panel.getByRole('button', { name: 'Close details' }).click();
      await panel.waitFor({ state: 'hidden' });
      return { verdict, lines, people };
    };
    return poll(read, (v) => ok(v.lines), 15_000, 300);
  }

  it('Details of a call to an open app: rang on the device, the app showed it, answered', async () => {
    const alice = await suite.newPage();
    await signIn(alice, 'dt_alice', 'Alice');
    const bob = await engineFor('dt_bob');
    await bob.engine.setSelfInfo('Bob', '');
    await dial(alice, ['dt_bob'], 'audio');
    const [callId] = (await bob.rec.waitFor('onCallReceived', () => true, 15_000)).args as [string];
    await bob.engine.accept();
    await waitConnected(alice);
    await bob.engine.hangup();
    await waitOutcome(alice);
    await alice.page.getByRole('button', { name: 'OK' }).click();
    const d = await readDetails(alice, callId, 'dt_bob', (l) => l.length >= 3);
    assert.deepEqual(d.lines.map((l) => l.step), ['rung', 'received', 'accepted']);
    assert.match(d.lines[0]!.text, /^Rang on Bob's open app \(device .+\)\.$/);
    assert.match(d.lines[1]!.text, /^Bob's app showed the incoming call \(device .+\)\.$/);
    assert.match(d.lines[2]!.text, /^Bob answered \(device .+\)\.$/);
    assert.equal(d.verdict, 'Rang in the app; answered.');
    assert.equal(d.people, 1, 'only the invitee has steps');
    // Focus goes back to the row's Details button (keyboard users land where they were).
    assert.equal(await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Details of the call with Bob');

    // By keyboard: Enter opens the panel (focus on Close), axe finds nothing serious, Escape closes it.
    await alice.page.keyboard.press('Enter');
    const panel = alice.page.getByRole('dialog', { name: 'Call details' });
    await panel.locator('.trace-step').first().waitFor();
    assert.equal(await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Close details');
    // The page's CSP refuses injected <script> tags; DevTools evaluation is not subject to it.
    await alice.page.evaluate(readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));
    const violations = await alice.page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; impact: string }[] }> } }).axe;
      const r = await axe.run({ include: [['.details']] }, { resultTypes: ['violations'] });
      return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    });
    assert.deepEqual(violations, []);
    await alice.page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    assert.equal(await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Details of the call with Bob');
    assert.deepEqual(alice.errors, []);
  });

  it('Details of a call to a closed app with push: pushed through Web Push, notification shown, canceled, withdrawn', async () => {
    const { worker, cdp, registrationId } = await bobWithWorker('dp_carol');
    const alice = await suite.newPage();
    await signIn(alice, 'dp_alice', 'Alice');
    await dial(alice, ['dp_carol'], 'video');
    const invite = (await push.waitFor((p) => p.payload['callerId'] === 'dp_alice' && p.payload['type'] === 'call.invite', 15_000)).payload;
    const callId = String(invite['callId']);
    await deliver(cdp, registrationId, invite);
    await poll(() => shown(worker), (l) => l.length === 1, 30_000);
    await alice.page.getByRole('button', { name: 'Cancel call' }).click();
    await waitOutcome(alice);
    await alice.page.getByRole('button', { name: 'OK' }).click();
    await pushOf(callId, 'call.withdraw');
    const d = await readDetails(alice, callId, 'dp_carol', (l) => l.filter((x) => x.step === 'push.sent').length === 2 && l.some((x) => x.step === 'notification.shown'));
    const steps = d.lines.map((l) => l.step);
    // `shown` is posted by the worker while the invite's push.sent is being recorded: only its place relative to the call's end is fixed.
    assert.deepEqual(steps.filter((x) => x !== 'notification.shown'), ['push.queued', 'push.sent', 'canceled', 'push.queued', 'push.sent']);
    assert.ok(steps.indexOf('notification.shown') > 0 && steps.indexOf('notification.shown') < steps.indexOf('canceled'), steps.join(', '));
    const text = (step: string, nth = 0): string => d.lines.filter((l) => l.step === step)[nth]!.text;
    assert.equal(text('push.queued'), 'Bob had no app open, so a push notification was prepared.');
    assert.match(text('push.sent'), /^Push sent through Web Push, which accepted it \(HTTP 201, \d+ ms\)\.$/);
    assert.equal(text('notification.shown'), "Bob's device showed the call notification.");
    assert.equal(text('canceled'), 'The caller hung up before Bob answered.');
    assert.equal(text('push.queued', 1), 'The invitation ended (canceled by the caller), so a push to take the notification back was prepared.');
    assert.match(text('push.sent', 1), /^Push to take the notification back sent through Web Push \(HTTP 201, \d+ ms\)\.$/);
    assert.equal(d.verdict, 'Shown as a notification; canceled by the caller.');
    assert.deepEqual(alice.errors, []);
  });
});
