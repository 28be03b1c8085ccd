/**
 * The wire of a call cycle (issue 14, fewer frames): what one turn has for a socket leaves as one
 * `batch` frame, in order; a 1-to-1 call's `onCallBegin` carries its `p2p` topology instead of a
 * separate `media.topology` event; event ids leave out the callId; `call.received` is a
 * notification (answered only when refused, recorded once per device). Raw sockets, so the frames themselves are checked.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '@opencall/server';
import { startTestServer } from './helpers/server.js';
import { messagesOf, signedInRaw } from './helpers/rawSocket.js';
import type { Frame, Raw } from './helpers/rawSocket.js';

let server: RunningServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

const signedIn = (userId: string): Promise<Raw> => signedInRaw(server, userId);

/** What a message is, in one word: `response#3`, `onCallBegin`, `error`. */
const kind = (f: Frame): string => (f.type === 'event' ? f.event!.name : f.type === 'response' ? `response#${f.id}` : f.type);

/** The messages of each WebSocket frame received after `from`, frame by frame. */
const framesSince = (r: Raw, from: number): string[][] => r.texts.slice(from).map((t) => messagesOf(t).map(kind));

/** The `received` steps of a call's delivery trace, as `user@device`. */
async function receivedSteps(r: Raw, id: number, callId: string): Promise<string[]> {
  const res = await r.request(id, 'call.trace', { callId });
  assert.equal(res.ok, true);
  const trace = (res.data as { trace: { userId: string; deviceId?: string; step: string }[] }).trace;
  return trace.filter((s) => s.step === 'received').map((s) => `${s.userId}@${s.deviceId ?? ''}`);
}

describe('the wire of a call cycle', () => {
  it('accept: each side gets one frame (begin with p2p topology, join, and the accepter its response); no media.topology event', async () => {
    const a = await signedIn('wf_a');
    const b = await signedIn('wf_b');
    try {
      const started = await a.request(2, 'call.start', { userIds: ['wf_b'], mediaType: 1 });
      const callId = (started.data as { callId: string }).callId;
      await b.next((f) => f.event?.name === 'onCallReceived');
      const [a0, b0] = [a.texts.length, b.texts.length];
      const accepted = await b.request(2, 'call.accept', { callId });
      assert.equal(accepted.ok, true);
      await a.next((f) => f.event?.name === 'onUserJoin');
      assert.deepEqual(framesSince(b, b0), [['onCallBegin', 'onUserJoin', 'response#2']]);
      assert.deepEqual(framesSince(a, a0), [['onCallBegin', 'onUserJoin']]);
      for (const r of [a, b]) {
        const begin = r.frames.find((f) => f.event?.name === 'onCallBegin')!;
        assert.equal(begin.event!['topology'], 'p2p');
        // The event id leaves out the callId the event names (`<callId>:<version>:<n>` on the client).
        assert.match((begin as { eid?: string }).eid ?? '', /^:\d+:\d+$/);
        assert.equal(r.frames.some((f) => f.event?.name === 'media.topology'), false);
      }
      // Hang-up: the hanger's end and response in one frame; the peer's leave and end in one.
      const [a1, b1] = [a.texts.length, b.texts.length];
      await a.request(3, 'call.hangup', { callId });
      await b.next((f) => f.event?.name === 'onCallEnd');
      assert.deepEqual(framesSince(a, a1), [['onCallEnd', 'response#3']]);
      assert.deepEqual(framesSince(b, b1), [['onUserLeave', 'onCallEnd']]);
    } finally {
      a.close();
      b.close();
    }
  });

  it('call.received is a notification: no answer, recorded once per device however often it is sent', async () => {
    const a = await signedIn('wf_c');
    const b = await signedIn('wf_d');
    try {
      const started = await a.request(2, 'call.start', { userIds: ['wf_d'], mediaType: 1 });
      const callId = (started.data as { callId: string }).callId;
      await b.next((f) => f.event?.name === 'onCallReceived');
      b.send({ v: 1, id: 2, type: 'call.received', data: { callId } });
      b.send({ v: 1, id: 3, type: 'call.received', data: { callId } });
      // Requests on one socket are handled in order: once this is answered, both reports were handled.
      await b.request(4, 'ping');
      assert.equal(b.frames.some((f) => f.id === 2 || f.id === 3), false, 'no answer to a notification');
      assert.deepEqual(await receivedSteps(a, 3, callId), ['wf_d@dev_wf_d']);
      await a.request(4, 'call.hangup', { callId });
    } finally {
      a.close();
      b.close();
    }
  });

  it('a refused call.received is answered with a clear error (malformed id -1202, not your call -1203) and records nothing', async () => {
    const a = await signedIn('wf_e');
    const b = await signedIn('wf_f');
    const evil = await signedIn('wf_evil');
    try {
      const started = await a.request(2, 'call.start', { userIds: ['wf_f'], mediaType: 1 });
      const callId = (started.data as { callId: string }).callId;
      await b.next((f) => f.event?.name === 'onCallReceived');
      evil.send({ v: 1, id: 2, type: 'call.received', data: { callId: 'no/such id' } });
      evil.send({ v: 1, id: 3, type: 'call.received', data: { callId } });
      evil.send({ v: 1, id: 4, type: 'call.received', data: {} });
      const answers = await Promise.all([2, 3, 4].map((id) => evil.next((f) => f.id === id)));
      assert.deepEqual(answers.map((f) => [f.ok, f.error?.code]), [[false, -1202], [false, -1203], [false, -1202]]);
      assert.deepEqual(await receivedSteps(a, 3, callId), []);
      await a.request(4, 'call.hangup', { callId });
    } finally {
      a.close();
      b.close();
      evil.close();
    }
  });
});
