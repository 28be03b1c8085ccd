/** SPEC §4 errors and §5.1 rules, provoked for real. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEngine, CallEndReason, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

let server: RunningServer;
before(async () => {
  server = await startTestServer({ defaultRingTimeoutSeconds: 2, maxParticipants: 3 });
});
after(() => server.close());

let n = 0;
async function pair(): Promise<[TestUser, TestUser]> {
  n++;
  return [await user(server, `ra${n}`), await user(server, `rb${n}`)];
}

async function connected(): Promise<[TestUser, TestUser]> {
  const [a, b] = await pair();
  await a.engine.calls([b.id], CallMediaType.audio);
  await b.rec.waitFor('onCallReceived');
  await b.engine.accept();
  await a.rec.waitFor('onUserJoin');
  return [a, b];
}

describe('errors of SPEC §4', () => {
  it('a method before init rejects with -1201', async () => {
    const e = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID });
    await assert.rejects(e.calls(['x'], CallMediaType.audio), { code: -1201 });
    await assert.rejects(e.accept(), { code: -1201 });
  });

  it('calls() with an empty list, yourself, a bad id or too many users rejects with -1202', async () => {
    const [a, b] = await pair();
    await assert.rejects(a.engine.calls([], CallMediaType.audio), { code: -1202 });
    await assert.rejects(a.engine.calls([a.id], CallMediaType.audio), { code: -1202 });
    await assert.rejects(a.engine.calls(['bad id'], CallMediaType.audio), { code: -1202 });
    await assert.rejects(a.engine.calls(['x1', 'x2', 'x3'], CallMediaType.audio), { code: -1202 });
    await assert.rejects(a.engine.calls([b.id], CallMediaType.none), { code: -1202 });
    await cleanup(a, b);
  });

  it('accept/reject/ignore with nothing ringing, or by the caller, reject with -1203', async () => {
    const [a, b] = await pair();
    await assert.rejects(a.engine.accept(), { code: -1203 });
    await assert.rejects(a.engine.reject(), { code: -1203 });
    await assert.rejects(a.engine.ignore(), { code: -1203 });
    await a.engine.calls([b.id], CallMediaType.audio);
    await assert.rejects(a.engine.accept(), { code: -1203 });
    await a.engine.hangup();
    await cleanup(a, b);
  });

  it('hangup() with no call resolves as a no-op; a second hangup too', async () => {
    const [a, b] = await connected();
    await a.engine.hangup();
    await a.engine.hangup();
    const [c, d] = await pair();
    await c.engine.hangup();
    assert.deepEqual(c.rec.lines(), []);
    await cleanup(a, b, c, d);
  });

  it('the same method twice at once: the second rejects with -1204; different methods queue', async () => {
    const [a, b] = await pair();
    const first = a.engine.calls([b.id], CallMediaType.audio);
    await assert.rejects(a.engine.calls([b.id], CallMediaType.audio), { code: -1204 });
    const hang = a.engine.hangup();
    await first;
    await hang;
    assert.deepEqual(a.rec.names(), ['onCallNotConnected', 'onCallCancelled']);
    await cleanup(a, b);
  });

  it('switchCallMediaType: -1202 to the same type; both sides get onCallMediaTypeChanged', async () => {
    const [a, b] = await connected();
    await assert.rejects(a.engine.switchCallMediaType(CallMediaType.audio), { code: -1202 });
    await a.engine.switchCallMediaType(CallMediaType.video);
    assert.ok(a.rec.lines().includes('onCallMediaTypeChanged(1,2)'));
    await b.rec.waitFor('onCallMediaTypeChanged');
    b.rec.clear();
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    assert.equal(b.rec.events.find((e) => e.name === 'onCallEnd')!.args[1], CallMediaType.video);
    const [rec] = await b.engine.queryRecentCalls();
    assert.equal(rec?.mediaType, CallMediaType.video);
    await cleanup(a, b);
  });

  it('switchCallMediaType while ringing is refused with -1203', async () => {
    const [a, b] = await pair();
    await a.engine.calls([b.id], CallMediaType.audio);
    await assert.rejects(a.engine.switchCallMediaType(CallMediaType.video), { code: -1203 });
    await a.engine.hangup();
    await cleanup(a, b);
  });

  it('init against a server that is not there rejects with -1401', async () => {
    const probe = await startTestServer();
    const deadUrl = probe.url;
    await probe.close();
    const e = new CallEngine({ serverUrl: deadUrl, sdkAppId: TEST_APP_ID, requestTimeoutMs: 1000 });
    await assert.rejects(e.init('someone', sig('someone')), { code: -1401 });
  });

  it('a refused UserSig rejects init with its code', async () => {
    const e = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID });
    await assert.rejects(e.init('someone', sig('other')), { code: 70013 });
    await assert.rejects(e.init('someone', 'garbage'), { code: 70003 });
    await assert.rejects(e.init('someone', sig('someone', 10, Date.now() - 60_000)), { code: 70001 });
    const wrongApp = new CallEngine({ serverUrl: server.url, sdkAppId: 1400000001 });
    await assert.rejects(wrongApp.init('someone', sig('someone')), { code: 70014 });
  });
});

describe('rules of SPEC §5.1', () => {
  it('glare: B calls A while A → B rings at B; B joins A\'s call and both get onCallBegin', async () => {
    const [a, b] = await pair();
    const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    const r = await b.engine.calls([a.id], CallMediaType.audio);
    assert.equal(r.callId, callId);
    assert.ok(b.rec.names().includes('onCallBegin'));
    await a.rec.waitFor('onCallBegin');
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    const records = [...(await a.engine.queryRecentCalls()), ...(await b.engine.queryRecentCalls())];
    assert.equal(records.filter((x) => x.result === 'missed').length, 0);
    await cleanup(a, b);
  });

  it('calls() while already in a call is refused with -1203', async () => {
    const [a, b] = await connected();
    await assert.rejects(a.engine.calls(['someone_else'], CallMediaType.audio), { code: -1203 });
    await a.engine.hangup();
    await cleanup(a, b);
  });

  it('a signed-out callee: the invitation stays pending and rings when they sign in before the timeout', async () => {
    n++;
    const a = await user(server, `ra${n}`);
    const late = await user(server, `late${n}`, { init: false });
    await a.engine.calls([late.id], CallMediaType.audio);
    await sleep(300);
    await late.engine.init(late.id, sig(late.id));
    const ev = await late.rec.waitFor('onCallReceived');
    assert.equal(ev.args[1], a.id);
    await late.engine.accept();
    await a.rec.waitFor('onCallBegin');
    await a.engine.hangup();
    await cleanup(a, late);
  });

  it('a signed-out callee who never signs in ends as noResponse', async () => {
    n++;
    const a = await user(server, `ra${n}`);
    await a.engine.calls([`nobody${n}`], CallMediaType.audio);
    const ev = await a.rec.waitFor('onCallNotConnected', () => true, 4000);
    assert.equal(ev.args[2], CallEndReason.noResponse);
    await cleanup(a);
  });

  it('hangup by a ringing callee is a reject', async () => {
    const [a, b] = await pair();
    await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.hangup();
    const ev = await a.rec.waitFor('onCallNotConnected');
    assert.equal(ev.args[2], CallEndReason.reject);
    await cleanup(a, b);
  });
});
