/**
 * Narrow test of the service's timer handling: a ring timer that fires before the clock reads its
 * deadline (Node arms timers on the loop's cached time, so this happens for real by a millisecond)
 * must be armed again, not dropped; otherwise the call rings forever. The clock here is a manual
 * one so the early fire is certain rather than occasional.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { CallMediaType } from '@opencall/protocol/wire';
import { MemoryStorage } from '../storage/memory/MemoryStorage.js';
import { CallService } from './CallService.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a ring timer that fires before its deadline is armed again and ends the call when the deadline comes', async () => {
  let clock = 1_700_000_000_000;
  const storage = new MemoryStorage();
  const sent: string[] = [];
  const service = new CallService({
    storage,
    presence: { ringDevices: () => ['d1'] },
    deliver: (to, event) => void sent.push(`${to.userId}:${event.name}`),
    ringTimeoutMs: 60,
    maxParticipants: 9,
    log: pino({ level: 'silent' }),
    now: () => clock,
  });
  try {
    const callId = await service.startCall({ userId: 'alice', deviceId: 'a1', callees: ['bob'], mediaType: CallMediaType.audio, params: {}, callerProfile: null });
    // The real timer fires after ~60 ms while the clock still reads the start: the tick is early.
    await sleep(120);
    assert.equal((await storage.getCall(callId))?.phase, 'ringing', 'nothing is due yet by the clock');
    clock += 61;
    await sleep(150);
    const call = await storage.getCall(callId);
    assert.equal(call?.phase, 'ended', 'the re-armed timer fired once the deadline had passed');
    assert.equal((await storage.timers()).length, 0);
  } finally {
    service.close();
  }
});

/**
 * A storage whose next commit throws the way a cut connection does: after writing (`store`) or
 * before (`!store`). The commit of a real adapter behaves so when the database committed and the
 * connection was cut before its answer came back.
 */
class CutStorage extends MemoryStorage {
  cut: null | { store: boolean } = null;
  override async commit(change: Parameters<MemoryStorage['commit']>[0]): Promise<void> {
    const cut = this.cut;
    this.cut = null;
    if (cut?.store) await super.commit(change);
    if (cut) throw Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' });
    return super.commit(change);
  }
}

test('a commit whose answer was lost but which was stored still sends its events; one that was not stored fails and sends none', async () => {
  const storage = new CutStorage();
  const sent: string[] = [];
  const service = new CallService({
    storage,
    presence: { ringDevices: (u) => [`${u}-d`] },
    deliver: (to, event) => void sent.push(`${to.userId}:${event.name}`),
    ringTimeoutMs: 60_000,
    maxParticipants: 9,
    log: pino({ level: 'silent' }),
  });
  try {
    const callId = await service.startCall({ userId: 'alice', deviceId: 'alice-d', callees: ['bob'], mediaType: CallMediaType.audio, params: {}, callerProfile: null });
    await service.run(callId, { type: 'accept', userId: 'bob', deviceId: 'bob-d' });
    // The hang-up's answer is lost, the change is not: Bob hears that the call ended.
    sent.length = 0;
    storage.cut = { store: true };
    await service.run(callId, { type: 'hangup', userId: 'alice', deviceId: 'alice-d' });
    assert.equal((await storage.getCall(callId))?.phase, 'ended');
    assert.ok(sent.includes('bob:onCallEnd'), `Bob was told: ${sent.join(', ')}`);

    // A cut before the write: the command fails and nobody hears of a change that did not happen.
    const second = await service.startCall({ userId: 'alice', deviceId: 'alice-d', callees: ['bob'], mediaType: CallMediaType.audio, params: {}, callerProfile: null });
    sent.length = 0;
    storage.cut = { store: false };
    await assert.rejects(service.run(second, { type: 'hangup', userId: 'alice', deviceId: 'alice-d' }), /CONNECTION_CLOSED/);
    assert.equal((await storage.getCall(second))?.phase, 'ringing');
    assert.deepEqual(sent, []);
  } finally {
    service.close();
  }
});
