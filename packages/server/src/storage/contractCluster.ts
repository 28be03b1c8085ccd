/**
 * The part of the storage contract that cluster mode (SPEC §8) leans on: the store itself refuses
 * a user's second busy leg (SPEC §5.1), hands each due timer to one holder at a time, and keeps
 * named leases exclusive. Registered by `runStorageContract`, so every adapter runs it.
 */
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import { CallEndReason } from '@opencall/protocol/wire';
import { callState, change, hook, leg, member, next, record, type Made } from './contractFixtures.js';
import { BusyConflictError } from './Storage.js';

/** Registers the cluster cases; `open` gives a fresh storage closed when the test ends. */
export function runClusterContract(open: (t: TestContext) => Promise<Made>): void {
  it('refuses a second busy leg for a user and writes nothing of that commit', async (t) => {
    const { storage: s } = await open(t);
    await s.commit(
      change(callState('c1'), { memberships: [leg('alice', 'c1', 'calling'), leg('bob', 'c1', 'ringing')], timerDueAt: 31_000 }),
    );
    const carolCalls = callState('c2', { callerId: 'carol', members: { carol: member('carol', 'calling'), bob: member('bob', 'ringing') } });
    const refused = s.commit(
      change(carolCalls, {
        memberships: [leg('carol', 'c2', 'calling'), leg('bob', 'c2', 'ringing')],
        timerDueAt: 20_000,
        records: [{ userId: 'carol', record: record('c2') }],
        webhooks: [hook('c2', 'c2.1', 1, 100)],
      }),
    );
    await assert.rejects(refused, (e: unknown) => e instanceof BusyConflictError && e.userId === 'bob' && e.name === 'BusyConflictError');
    assert.equal(await s.getCall('c2'), null);
    assert.deepEqual(await s.membershipsOf('carol'), []);
    assert.deepEqual(await s.membershipsOf('bob'), [leg('bob', 'c1', 'ringing')]);
    assert.deepEqual(await s.timers(), [{ callId: 'c1', dueAt: 31_000 }]);
    assert.deepEqual(await s.queryRecords('carol', {}), []);
    assert.deepEqual(await s.webhookBacklog(), { depth: 0, oldestCreatedAt: null });
    // Told bob is busy, the caller commits him as `busy`, which is no busy leg.
    await s.commit(change(carolCalls, { memberships: [leg('bob', 'c2', 'busy'), leg('carol', 'c2', 'calling')] }));
    assert.deepEqual(await s.membershipsOf('bob'), [leg('bob', 'c1', 'ringing'), leg('bob', 'c2', 'busy')]);
  });

  it('refuses an update that makes a pending invitee busy while busy elsewhere, keeping the old version', async (t) => {
    const { storage: s } = await open(t);
    await s.commit(change(callState('c1'), { memberships: [leg('alice', 'c1', 'joined'), leg('bob', 'c1', 'joined')] }));
    const v1 = callState('c2', { callerId: 'carol' });
    const pending = [leg('bob', 'c2', 'invited'), leg('carol', 'c2', 'calling')];
    await s.commit(change(v1, { memberships: pending, timerDueAt: 9_000 }));
    await assert.rejects(
      s.commit(change(next(v1, { userData: 'rung' }), { memberships: [leg('bob', 'c2', 'ringing'), leg('carol', 'c2', 'calling')], timerDueAt: 5_000 })),
      (e: unknown) => e instanceof BusyConflictError && e.userId === 'bob',
    );
    assert.deepEqual(await s.getCall('c2'), v1);
    assert.deepEqual(await s.membershipsOf('bob'), [leg('bob', 'c1', 'joined'), leg('bob', 'c2', 'invited')]);
    assert.deepEqual(await s.timers(), [{ callId: 'c2', dueAt: 9_000 }]);
    // Once bob's call ends, the same change goes through, and his leg may move within one call.
    await s.commit(change(next(callState('c1'), { phase: 'ended', endReason: CallEndReason.hangup })));
    await s.commit(change(next(v1, { userData: 'rung' }), { memberships: [leg('bob', 'c2', 'ringing'), leg('carol', 'c2', 'calling')] }));
    await s.commit(change(next(next(v1)), { memberships: [leg('bob', 'c2', 'joined'), leg('carol', 'c2', 'joined')] }));
    assert.deepEqual(await s.membershipsOf('bob'), [leg('bob', 'c2', 'joined')]);
  });

  it('allows a user to be invited (pending) in several calls, and busy in one of them', async (t) => {
    const { storage: s } = await open(t);
    await s.commit(change(callState('c1'), { memberships: [leg('alice', 'c1', 'calling'), leg('bob', 'c1', 'invited')] }));
    await s.commit(change(callState('c2', { callerId: 'carol' }), { memberships: [leg('bob', 'c2', 'invited'), leg('carol', 'c2', 'calling')] }));
    await s.commit(change(callState('c3', { callerId: 'dave' }), { memberships: [leg('bob', 'c3', 'ringing'), leg('dave', 'c3', 'calling')] }));
    assert.deepEqual(
      (await s.membershipsOf('bob')).map((m) => `${m.callId}:${m.state}`),
      ['c1:invited', 'c2:invited', 'c3:ringing'],
    );
  });

  it('hands a due timer to one holder while its claim is live; an expired claim is reclaimable', async (t) => {
    const { storage: s } = await open(t);
    await s.commit(change(callState('c1'), { timerDueAt: 1_000 }));
    await s.commit(change(callState('c2'), { timerDueAt: 2_000 }));
    await s.commit(change(callState('c3'), { timerDueAt: 5_000 }));
    assert.deepEqual(await s.claimDueTimers('n1', 2_000, 1_000, 10), [
      { callId: 'c1', dueAt: 1_000 },
      { callId: 'c2', dueAt: 2_000 },
    ]);
    assert.deepEqual(await s.claimDueTimers('n2', 2_500, 1_000, 10), [], 'claimed until 3_000');
    assert.deepEqual(await s.claimDueTimers('n1', 2_999, 1_000, 10), [], 'not even to the same holder');
    assert.deepEqual(await s.timers(), [
      { callId: 'c1', dueAt: 1_000 },
      { callId: 'c2', dueAt: 2_000 },
      { callId: 'c3', dueAt: 5_000 },
    ], 'claimed timers are still armed');
    assert.deepEqual(await s.claimDueTimers('n2', 3_000, 1_000, 1), [{ callId: 'c1', dueAt: 1_000 }], 'expired at 3_000; limit 1');
    assert.deepEqual(await s.claimDueTimers('n3', 3_500, 10_000, 10), [{ callId: 'c2', dueAt: 2_000 }]);
    assert.deepEqual(await s.claimDueTimers('n3', 3_500, 1_000, 0), []);
    assert.deepEqual(await s.claimDueTimers('n1', 5_000, 1_000, 10), [
      { callId: 'c1', dueAt: 1_000 },
      { callId: 'c3', dueAt: 5_000 },
    ], 'c2 is n3\'s until 13_500');
  });

  it('clears a timer claim when the call commits', async (t) => {
    const { storage: s } = await open(t);
    const c1 = callState('c1');
    const c2 = callState('c2');
    const c3 = callState('c3');
    await s.commit(change(c1, { timerDueAt: 1_000 }));
    await s.commit(change(c2, { timerDueAt: 1_000 }));
    await s.commit(change(c3, { timerDueAt: 1_000 }));
    assert.equal((await s.claimDueTimers('n1', 2_000, 60_000, 10)).length, 3);
    await s.commit(change(next(c1), { timerDueAt: 1_000 })); // same deadline: claim void all the same
    await s.commit(change(next(c2), { timerDueAt: 1_500 })); // new deadline, already due
    await s.commit(change(next(c3), { timerDueAt: null })); // disarmed
    assert.deepEqual(await s.claimDueTimers('n2', 2_001, 1_000, 10), [
      { callId: 'c1', dueAt: 1_000 },
      { callId: 'c2', dueAt: 1_500 },
    ]);
    assert.deepEqual(await s.timers(), [
      { callId: 'c1', dueAt: 1_000 },
      { callId: 'c2', dueAt: 1_500 },
    ]);
  });

  it('keeps a lease exclusive, renews it for its holder, hands it over once expired, releases only its own', async (t) => {
    const { storage: s } = await open(t);
    assert.equal(await s.acquireLease('webhooks', 'n1', 1_000, 0), true);
    assert.equal(await s.acquireLease('webhooks', 'n2', 1_000, 500), false);
    assert.equal(await s.acquireLease('reap:x', 'n2', 1_000, 500), true, 'names are independent');
    assert.equal(await s.acquireLease('webhooks', 'n1', 1_000, 900), true, 'renewed until 1_900');
    assert.equal(await s.acquireLease('webhooks', 'n2', 1_000, 1_500), false);
    assert.equal(await s.acquireLease('webhooks', 'n2', 1_000, 1_900), true, 'expired at 1_900: taken over');
    assert.equal(await s.acquireLease('webhooks', 'n1', 1_000, 1_901), false, 'the old holder lost it');
    await s.releaseLease('webhooks', 'n1'); // not the holder: no effect
    assert.equal(await s.acquireLease('webhooks', 'n1', 1_000, 1_950), false);
    await s.releaseLease('webhooks', 'n2');
    assert.equal(await s.acquireLease('webhooks', 'n1', 1_000, 1_960), true, 'free after release');
    assert.equal(await s.acquireLease('reap:x', 'n1', 1_000, 1_960), true, 'the other name expired at 1_500');
  });
}
