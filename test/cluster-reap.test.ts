/**
 * The reaper's release against a real Redis: a node frozen past the heartbeat window looks dead
 * to the others, and one of them starts reaping its devices; if the node wakes and beats before
 * the reaper reaches a device, that device stays (the node may hold its session again: the chaos
 * run saw a device resume on the woken node, then lose every event once the reaper released it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { RedisLive } from '../packages/server/src/cluster/redis/RedisLive.js';
import { TEST_REDIS, clusterServicesAvailable, dropClusterKeys, uniqueClusterName } from './helpers/cluster.js';

const available = await clusterServicesAvailable();

describe('RedisLive.reap', { skip: available ? false : 'PostgreSQL or Redis not running' }, () => {
  const cluster = uniqueClusterName();
  const log = pino({ level: 'silent' });
  let frozen: RedisLive;
  let reaper: RedisLive;
  before(async () => {
    frozen = new RedisLive(TEST_REDIS, cluster, 'n1', log);
    reaper = new RedisLive(TEST_REDIS, cluster, 'n2', log);
    await frozen.start(() => undefined);
    await reaper.start(() => undefined);
  });
  after(async () => {
    await frozen?.close();
    await reaper?.close();
    await dropClusterKeys(cluster);
  });

  const signIn = async (userId: string, sid: string): Promise<void> => {
    const claimed = await frozen.claim({ userId, deviceId: 'd1', node: 'n1', boot: frozen.boot, sid, at: Date.now(), multi: false }, 'kick');
    assert.ok(claimed, 'signed in');
  };

  it('releases the device of a node that stayed silent, and keeps the one of a node that beat again', async () => {
    const t0 = Date.now() - 10_000;
    await frozen.beat(t0, 60_000);
    await signIn('u-dead', 's-dead');
    await signIn('u-back', 's-back');
    const seen = (await reaper.incarnations()).find((i) => i.nodeId === 'n1')!.lastBeat;
    assert.equal(seen, t0);

    // Still silent: the reaper's release goes through.
    assert.equal(await reaper.reap('u-dead', 'd1', 's-dead', { node: 'n1', boot: frozen.boot }, seen), 'released');
    assert.equal(await reaper.entry('u-dead', 'd1'), null);

    // The node wakes and beats before the reaper reaches the next device: nothing is released.
    await frozen.beat(Date.now(), 60_000);
    assert.equal(await reaper.reap('u-back', 'd1', 's-back', { node: 'n1', boot: frozen.boot }, seen), 'revived');
    assert.equal((await reaper.entry('u-back', 'd1'))?.sid, 's-back', 'the device is still the woken node\'s');

    // A session that is not the holder's any more is simply kept, as before.
    assert.equal(await reaper.reap('u-back', 'd1', 's-other', { node: 'n1', boot: frozen.boot }, Date.now()), 'kept');
  });
});
