/**
 * The web app's service worker in real Chromium (SPEC §9): pushes the server really sent (captured
 * by a local push service that decrypts them) are delivered to the worker through the DevTools
 * protocol (`ServiceWorker.deliverPushMessage`); the shown notifications are read through
 * `registration.getNotifications()`; Accept and Decline go through the worker's `notificationclick`
 * handler, and the caller sees the call accepted or declined.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, CDPSession, Worker } from 'playwright-core';
import { CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { browserSkip, launchChromium, openApp, poll, signIn, startWebServer } from '../../../test/helpers/browser.js';
import type { AppPage } from '../../../test/helpers/browser.js';
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
  let server: RunningServer;
  let browser: Browser;
  let push: LocalPushService;
  const pages: AppPage[] = [];
  const engines: CallEngine[] = [];

  before(async () => {
    push = await new LocalPushService().start();
    server = await startWebServer({ defaultRingTimeoutSeconds: 30, push: { allowHttpEndpoints: true } });
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.unInit().catch(() => undefined)));
    await Promise.all(pages.splice(0).map((p) => p.context.close().catch(() => undefined)));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await push.close();
  });

  /** A Node engine signed in through the dev sig endpoint. */
  async function engineFor(userId: string): Promise<{ engine: CallEngine; rec: Recorder }> {
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
    const app = await openApp(browser, server);
    pages.push(app);
    const cdp = await app.context.newCDPSession(app.page);
    await cdp.send('ServiceWorker.enable');
    const regs = new Map<string, string>();
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: { registrationId: string; scopeURL: string }[] }) => {
      for (const r of e.registrations) regs.set(r.scopeURL, r.registrationId);
    });
    await signIn(app, userId, 'Bob');
    const worker = app.context.serviceWorkers()[0] ?? (await app.context.waitForEvent('serviceworker'));
    const registrationId = await poll(async () => regs.get(`${server.url}/`), (v) => v !== undefined);
    const { engine } = await engineFor(userId);
    await engine.registerPush({ type: 'webpush', subscription: push.subscribe() });
    // Signing in elsewhere signed the page out (devicePolicy 'kick'); the engine then signs out too.
    await app.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await engine.unInit();
    return { app, worker, cdp, registrationId: registrationId! };
  }

  const deliver = async (cdp: CDPSession, registrationId: string, payload: Record<string, unknown>): Promise<void> => {
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId, data: JSON.stringify(payload) });
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
    const list = await poll(() => shown(worker), (l) => l.length === 1);
    assert.deepEqual(list, [{ title: 'Alice', body: 'Incoming video call', tag: callId, actions: ['accept', 'decline'] }]);
    await click(worker, 'decline');
    await alice.rec.waitFor('onUserReject', (a) => a[0] === 'sw_bob');
    await deliver(cdp, registrationId, await pushOf(callId, 'call.withdraw'));
    await poll(() => shown(worker), (l) => l.length === 0);
  });

  it('a canceled call turns the notification into "Missed call from Alice"', async () => {
    const { worker, cdp, registrationId } = await bobWithWorker('sm_bob');
    const alice = await engineFor('sm_alice');
    await alice.engine.setSelfInfo('Alice', '');
    const { callId } = await alice.engine.calls(['sm_bob'], CallMediaType.audio);
    await deliver(cdp, registrationId, await pushOf(callId, 'call.invite'));
    await poll(() => shown(worker), (l) => l.length === 1 && l[0]!.body === 'Incoming audio call');
    await alice.engine.hangup();
    await deliver(cdp, registrationId, await pushOf(callId, 'call.withdraw'));
    const list = await poll(() => shown(worker), (l) => l.length === 1 && l[0]!.body.startsWith('Missed'));
    assert.deepEqual(list.map((n) => [n.title, n.body, n.tag]), [['Alice', 'Missed call from Alice', callId]]);
  });

  it('Accept: the open page signs in with the remembered identity and answers; the caller sees the call begin', async () => {
    const { app, worker, cdp, registrationId } = await bobWithWorker('sa_bob');
    const alice = await engineFor('sa_alice');
    const { callId } = await alice.engine.calls(['sa_bob'], CallMediaType.audio);
    await deliver(cdp, registrationId, await pushOf(callId, 'call.invite'));
    await poll(() => shown(worker), (l) => l.length === 1);
    await click(worker, 'accept');
    await alice.rec.waitFor('onCallBegin', () => true, 15_000);
    await alice.rec.waitFor('onUserJoin', (a) => a[0] === 'sa_bob');
    assert.deepEqual(app.errors, []);
    await alice.engine.hangup();
  });
});
