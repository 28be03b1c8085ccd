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
