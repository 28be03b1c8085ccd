/**
 * The stored-requests and device-events part of the storage contract (issue 15: idempotent
 * requests across restarts and nodes, events replayed after a crash), run by
 * `runStorageContract` for every adapter.
 */
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import { BusyConflictError, RequestCommittedError, VersionConflictError, type DeviceEventRow, type StoredRequest } from './Storage.js';
import { callState, change, leg, next, type Made } from './contractFixtures.js';

function request(userId: string, deviceId: string, requestId: number, createdAt: number, result = '{}'): StoredRequest {
  return { userId, deviceId, requestId, result, events: `[{"eid":"c1:1:${requestId}","event":{"name":"onCallBegin"}}]`, createdAt };
}

function ev(userId: string, deviceId: string, eid: string, createdAt: number): DeviceEventRow {
  return { userId, deviceId, eid, event: `{"name":"x","eid":"${eid}"}`, createdAt };
}

/** Registers the replay tests inside the adapter's contract `describe`. */
export function replayContract(open: (t: TestContext) => Promise<Made>): void {
  it('stores a request outcome and device events with the commit, scoped by user, device and id', async (t) => {
    const { storage: s } = await open(t);
    const v1 = callState('c1');
    const r = request('bob', 'dev-b', 7, 1_000, '{"callId":"c1"}');
    await s.commit(change(v1, { request: r, deviceEvents: [ev('alice', 'dev-a', 'c1:1:0', 1_000), ev('bob', 'dev-b', 'c1:1:1', 1_000)] }));
    assert.deepEqual(await s.requestResult('bob', 'dev-b', 7), r);
    // Another device, user or id finds nothing.
    assert.equal(await s.requestResult('bob', 'dev-x', 7), null);
    assert.equal(await s.requestResult('alice', 'dev-b', 7), null);
    assert.equal(await s.requestResult('bob', 'dev-b', 8), null);
    await s.commit(change(next(v1), { deviceEvents: [ev('bob', 'dev-b', 'c1:2:0', 2_000)] }));
    // In commit order, from `since` on.
    assert.deepEqual((await s.recentDeviceEvents(0)).map((e) => e.eid), ['c1:1:0', 'c1:1:1', 'c1:2:0']);
    assert.deepEqual(await s.recentDeviceEvents(1_500), [ev('bob', 'dev-b', 'c1:2:0', 2_000)]);
  });

  it('a refused commit stores neither its request nor its events', async (t) => {
    const { storage: s } = await open(t);
    const v1 = callState('c1');
    await s.commit(change(v1));
    // Stale version.
    await assert.rejects(
      s.commit(change(v1, { request: request('bob', 'dev-b', 1, 10), deviceEvents: [ev('bob', 'dev-b', 'c1:1:0', 10)] })),
      VersionConflictError,
    );
    // A second busy leg for bob.
    await s.commit(change(callState('c2'), { memberships: [leg('bob', 'c2', 'joined')] }));
    await assert.rejects(
      s.commit(change(next(v1), { memberships: [leg('bob', 'c1', 'ringing')], request: request('bob', 'dev-b', 2, 10), deviceEvents: [ev('bob', 'dev-b', 'c1:2:0', 10)] })),
      BusyConflictError,
    );
    assert.equal(await s.requestResult('bob', 'dev-b', 1), null);
    assert.equal(await s.requestResult('bob', 'dev-b', 2), null);
    assert.deepEqual(await s.recentDeviceEvents(0), []);
  });

  it('a request commits at most once: a second run’s commit is refused whole, whatever call it changes', async (t) => {
    const { storage: s } = await open(t);
    const r = request('bob', 'dev-b', 3, 10, '{"callId":"c1"}');
    await s.commit(change(callState('c1'), { memberships: [leg('bob', 'c1', 'calling')], request: r, deviceEvents: [ev('bob', 'dev-b', 'c1:1:0', 10)] }));
    // The same call.start run again (its client re-sent it while the first run was stalled) makes another call.
    const again = s.commit(
      change(callState('c2'), { memberships: [leg('carol', 'c2', 'ringing')], request: { ...r, result: '{"callId":"c2"}' }, deviceEvents: [ev('bob', 'dev-b', 'c2:1:0', 20)] }),
    );
    await assert.rejects(again, (e: unknown) => e instanceof RequestCommittedError && e.name === 'RequestCommittedError' && e.requestId === 3);
    assert.equal(await s.getCall('c2'), null);
    assert.deepEqual(await s.membershipsOf('carol'), []);
    assert.deepEqual(await s.requestResult('bob', 'dev-b', 3), r);
    assert.deepEqual((await s.recentDeviceEvents(0)).map((e) => e.eid), ['c1:1:0']);
    // Another request id of the device commits as usual.
    await s.commit(change(next(callState('c1')), { request: request('bob', 'dev-b', 4, 30) }));
  });

  it('forgetDevice drops one device’s requests and events only; purgeReplay drops old rows in bounded batches', async (t) => {
    const { storage: s } = await open(t);
    let state = callState('c1');
    await s.commit(change(state, { request: request('bob', 'dev-b', 1, 100), deviceEvents: [ev('bob', 'dev-b', 'c1:1:0', 100), ev('bob', 'dev-c', 'c1:1:1', 100)] }));
    for (const [i, at] of [[2, 200], [3, 300]] as const) {
      state = next(state);
      const device = i === 2 ? 'dev-c' : 'dev-b';
      await s.commit(change(state, { request: request('bob', device, i, at), deviceEvents: [ev('bob', device, `c1:${i}:0`, at)] }));
    }
    await s.forgetDevice('bob', 'dev-b');
    assert.equal(await s.requestResult('bob', 'dev-b', 1), null);
    assert.equal(await s.requestResult('bob', 'dev-b', 3), null);
    assert.notEqual(await s.requestResult('bob', 'dev-c', 2), null);
    assert.deepEqual((await s.recentDeviceEvents(0)).map((e) => e.eid), ['c1:1:1', 'c1:2:0']);
    // Oldest first, at most `limit` per table.
    assert.deepEqual(await s.purgeReplay(301, 1), { requests: 1, events: 1 });
    assert.deepEqual((await s.recentDeviceEvents(0)).map((e) => e.eid), ['c1:2:0']);
    assert.equal(await s.requestResult('bob', 'dev-c', 2), null);
    // What is left of the old rows goes; the forgotten device's events may still have been stored
    // (hidden), so only "some rows, no requests" is certain.
    const rest = await s.purgeReplay(301, 10);
    assert.equal(rest.requests, 0);
    assert.ok(rest.events >= 1 && rest.events <= 2, `purged ${rest.events} event rows`);
    assert.deepEqual(await s.recentDeviceEvents(0), []);
    assert.deepEqual(await s.purgeReplay(301, 10), { requests: 0, events: 0 });
    // Forgetting hides only what was stored before it: the device's later events are replayed.
    await s.commit(change(next(state), { deviceEvents: [ev('bob', 'dev-b', 'c1:4:0', 400)] }));
    assert.deepEqual((await s.recentDeviceEvents(0)).map((e) => e.eid), ['c1:4:0']);
  });

  it('stored requests and device events survive a reopen', async (t) => {
    const made = await open(t);
    if (!made.reopen) return t.skip('adapter keeps nothing across a reopen');
    const r = request('bob', 'dev-b', 5, 1_000);
    await made.storage.commit(change(callState('c1'), { request: r, deviceEvents: [ev('bob', 'dev-b', 'c1:1:0', 1_000)] }));
    await made.storage.close();
    const again = await made.reopen();
    t.after(() => again.close());
    assert.deepEqual(await again.requestResult('bob', 'dev-b', 5), r);
    assert.deepEqual((await again.recentDeviceEvents(0)).map((e) => e.eid), ['c1:1:0']);
  });
}
