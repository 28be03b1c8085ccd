/**
 * Narrow unit test of how a failed PostgreSQL commit is reported. The busy refusal itself is proven
 * against a real server by the contract suite (test/storage-postgres.test.ts); deadlocks and
 * serialization failures cannot be provoked on demand, so their mapping is checked here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import { callState, change, leg } from '../contractFixtures.js';
import { BusyConflictError, VersionConflictError } from '../Storage.js';
import { commitStatement, mapCommitError } from './commit.js';

const c = change(callState('c1'), { memberships: [leg('zed', 'c1', 'ringing'), leg('amy', 'c1', 'calling'), leg('bob', 'c1', 'invited')] });
const pgError = (fields: Partial<postgres.PostgresError>): postgres.PostgresError => new postgres.PostgresError({ message: 'x', ...fields });

describe('mapCommitError', () => {
  it('names the user the busy index refused, from the key in the detail', () => {
    const e = mapCommitError(pgError({ code: '23505', constraint_name: 'memberships_one_busy_leg', detail: 'Key (user_id)=(zed) already exists.' }), c);
    assert.ok(e instanceof BusyConflictError && e.userId === 'zed');
  });

  it('falls back to the first busy leg by user id when the server hides key values', () => {
    const e = mapCommitError(pgError({ code: '23505', constraint_name: 'memberships_one_busy_leg' }), c);
    assert.ok(e instanceof BusyConflictError && e.userId === 'amy');
  });

  it('reports a deadlock or a serialization failure as a version conflict, to be retried', () => {
    for (const code of ['40P01', '40001']) {
      const e = mapCommitError(pgError({ code }), c);
      assert.ok(e instanceof VersionConflictError && e.callId === 'c1', code);
    }
  });

  it('passes any other error through unchanged', () => {
    const duplicateEvent = pgError({ code: '23505', constraint_name: 'webhook_outbox_event_id_key' });
    assert.equal(mapCommitError(duplicateEvent, c), duplicateEvent);
    const plain = new Error('socket closed');
    assert.equal(mapCommitError(plain, c), plain);
  });
});

describe('commitStatement', () => {
  it('writes memberships in user-id order, so crossed commits queue instead of deadlocking', () => {
    const { params } = commitStatement(c);
    assert.deepEqual(params.slice(0, 2), [['amy', 'bob', 'zed'], ['calling', 'invited', 'ringing']]);
  });

  it('refuses a membership of another call or a user listed twice before touching the database', () => {
    assert.throws(() => commitStatement(change(callState('c1'), { memberships: [leg('amy', 'c2', 'calling')] })), /membership of c2/);
    assert.throws(() => commitStatement(change(callState('c1'), { memberships: [leg('amy', 'c1', 'calling'), leg('amy', 'c1', 'joined')] })), /listed twice/);
  });
});
