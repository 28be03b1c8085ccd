/**
 * Bad input on the socket gets a clear error and never disturbs other users' calls: garbage,
 * oversized frames, unknown types, requests before auth, acting on calls you are not in, forged,
 * expired and other-user sigs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { rawSocket, signedInRaw } from './helpers/rawSocket.js';
import type { Raw } from './helpers/rawSocket.js';
import { cleanup, user } from './helpers/users.js';

let server: RunningServer;
before(async () => {
  server = await startTestServer({ limits: { maxMessageBytes: 4096, messagesPerSecondPerConnection: 1000 } });
});
after(() => server.close());

const signedIn = (userId: string): Promise<Raw> => signedInRaw(server, userId);

describe('bad input on the signaling socket', () => {
  it('a running call between two users carries on through a storm of bad frames from a third', async () => {
    const a = await user(server, 'bi_a');
    const b = await user(server, 'bi_b');
    await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();

    const evil = await signedIn('bi_evil');
    const callId = (b.rec.events[0]!.args[0]) as string;
    evil.send('not json at all');
    evil.send(JSON.stringify({ v: 1, id: 2, type: 'call.teleport', data: {} }));
    evil.send('x'.repeat(5000));
    evil.send(JSON.stringify({ v: 1, id: 3, type: 'call.hangup', data: { callId } }));
    evil.send(JSON.stringify({ v: 1, id: 4, type: 'call.accept', data: { callId: 'c_doesnotexist' } }));
    evil.send(JSON.stringify({ v: 1, id: 5, type: 'call.start', data: { userIds: 'bi_a', mediaType: 1 } }));
    evil.send(JSON.stringify([1, 2, 3]));
    evil.send(JSON.stringify({ v: 1, id: 6, type: 'call.join', data: { callId } }));
    const r3 = await evil.next((f) => f.id === 3);
    const r4 = await evil.next((f) => f.id === 4);
    const r5 = await evil.next((f) => f.id === 5);
    const r6 = await evil.next((f) => f.id === 6);
    assert.deepEqual([r3.error?.code, r4.error?.code, r5.error?.code, r6.error?.code], [-1203, -1203, -1202, -1203]);
    const errors = evil.frames.filter((f) => f.type === 'error').map((f) => f.error?.code);
    assert.deepEqual(errors.sort(), [4001, 4001, 4003]);
    assert.equal(evil.frames.find((f) => f.id === 2)?.error?.code, 4002);

    // The real call is untouched: still connected, and hangs up normally.
    assert.ok(!a.rec.names().includes('onCallEnd'));
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    evil.close();
    await cleanup(a, b);
  });

  it('a request larger than the server limit fails with -1202 instead of being re-sent forever', async () => {
    const a = await user(server, 'bi_big');
    await assert.rejects(a.engine.calls(['bi_other'], CallMediaType.audio, { userData: 'z'.repeat(4090) }), { code: -1202 });
    // The engine is still usable afterwards.
    const { callId } = await a.engine.calls(['bi_other'], CallMediaType.audio);
    assert.match(callId, /^c_/);
    await a.engine.hangup();
    await cleanup(a);
  });

  it('requests before auth get 4004', async () => {
    const r = await rawSocket(server);
    const res = await r.request(1, 'call.start', { userIds: ['x'], mediaType: 1 });
    assert.equal(res.error?.code, 4004);
    r.close();
  });

  it('auth with forged, expired, other-user and wrong-app sigs is refused with the UserSig codes', async () => {
    const r = await rawSocket(server);
    const base = { sdkAppId: TEST_APP_ID, userId: 'bi_x', deviceId: 'dev_bi_x' };
    const forged = sig('bi_x').slice(0, -6) + 'AAAAAA';
    assert.equal((await r.request(1, 'auth', { ...base, userSig: forged })).error?.code, 70003);
    assert.equal((await r.request(2, 'auth', { ...base, userSig: sig('bi_x', 1, Date.now() - 10_000) })).error?.code, 70001);
    assert.equal((await r.request(3, 'auth', { ...base, userSig: sig('bi_y') })).error?.code, 70013);
    assert.equal((await r.request(4, 'auth', { ...base, sdkAppId: 1, userSig: sig('bi_x') })).error?.code, 70014);
    // Still unauthenticated afterwards.
    assert.equal((await r.request(5, 'ping')).error?.code, 4004);
    r.close();
  });

  it('unknown fields are ignored', async () => {
    const r = await signedIn('bi_fields');
    const res = await r.request(2, 'profile.set', { nickname: 'N', avatar: '', shoeSize: 44 });
    assert.equal(res.ok, true);
    r.close();
  });

  it('a frame over four times the limit closes only that socket (1009)', async () => {
    const r = await signedIn('bi_huge');
    const closed = new Promise<number>((res) => r.ws.once('close', (code) => res(code)));
    r.send('y'.repeat(4096 * 4 + 10));
    assert.equal(await closed, 1009);
    const h = await fetch(`${server.url}/healthz`);
    assert.equal(h.status, 200);
  });
});
