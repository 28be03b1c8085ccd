/**
 * "Is anyone wedged?" — the check every security regression ends with: each user signs in on a
 * fresh engine, is called (rings, accepts, talks) and calls back, and both calls end normally. A
 * user left busy, unable to sign in, or on a call nobody can end fails it.
 */
import assert from 'node:assert/strict';
import { CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { cleanup, user } from './users.js';
import type { TestUser } from './users.js';

/** One call `from` → `to`: rings, is accepted, connects both, and ends for both on hangup. */
async function callOnce(from: TestUser, to: TestUser): Promise<void> {
  const { callId } = await from.engine.calls([to.id], CallMediaType.audio);
  await to.rec.waitFor('onCallReceived', (a) => a[0] === callId);
  const begun = from.rec.waitFor('onCallBegin', (a) => a[0] === callId);
  await to.engine.accept();
  await begun;
  const ended = to.rec.waitFor('onCallEnd', (a) => a[0] === callId);
  await from.engine.hangup();
  await ended;
}

/**
 * Asserts that every user in `userIds` can still call and be called: each signs in afresh, a
 * partner (`<id>_probe`) calls them, then they call the partner.
 */
export async function assertNotWedged(server: RunningServer, userIds: readonly string[]): Promise<void> {
  for (const id of userIds) {
    const me = await user(server, id);
    const partner = await user(server, `${id.slice(0, 24)}_probe`);
    try {
      await callOnce(partner, me);
      await callOnce(me, partner);
    } catch (err) {
      assert.fail(`${id} is wedged: ${(err as Error).message}`);
    } finally {
      await cleanup(me, partner);
    }
  }
}
