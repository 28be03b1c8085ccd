/**
 * How GroupCommit forms batches and reports each commit's own outcome, with a fake writer (the
 * statement itself is proven on a real server by test/storage-postgres-group.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callState, change, record } from '../contractFixtures.js';
import { BusyConflictError, VersionConflictError, type CallChange } from '../Storage.js';
import { GroupCommit, type BatchWriter } from './GroupCommit.js';

/** A writer that records what it was asked; `lose` ids are version losers, `busy` ids fail alone. */
function fakeWriter(o: { lose?: string[]; busy?: string[]; lostConnection?: boolean } = {}): BatchWriter & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    batches,
    rolledBack: (e) => !(e instanceof Error && e.message === 'connection lost'),
    one: async (c) => {
      batches.push([c.state.callId]);
      if (o.busy?.includes(c.state.callId)) throw new BusyConflictError('bob');
      if (o.lose?.includes(c.state.callId)) throw new VersionConflictError(c.state.callId);
    },
    trace: async (rows) => void batches.push(rows.map((r) => `trace:${r.callId}`)),
    many: async (cs, trace) => {
      batches.push([...cs.map((c) => c.state.callId), ...trace.map((r) => `trace:${r.callId}`)]);
      if (o.lostConnection) throw new Error('connection lost');
      if (cs.some((c) => o.busy?.includes(c.state.callId))) throw new Error('duplicate key value violates unique constraint');
      return new Set(cs.map((c) => c.state.callId).filter((id) => !o.lose?.includes(id)));
    },
  };
}

const ch = (id: string, over: Partial<CallChange> = {}): CallChange => change(callState(id), over);
const outcome = (p: Promise<void>): Promise<string> => p.then(() => 'ok', (e: Error) => e.name);

describe('GroupCommit', () => {
  it('sends the commits of one turn as one batch', async () => {
    const w = fakeWriter();
    const g = new GroupCommit(w);
    await Promise.all(['a', 'b', 'c'].map((id) => g.commit(ch(id))));
    assert.deepEqual(w.batches, [['a', 'b', 'c']]);
  });

  it('rejects only the change that lost its version race; the others resolve', async () => {
    const g = new GroupCommit(fakeWriter({ lose: ['b'] }));
    assert.deepEqual(await Promise.all(['a', 'b', 'c'].map((id) => outcome(g.commit(ch(id))))), ['ok', 'VersionConflictError', 'ok']);
  });

  it('commits one by one when the batch statement fails, so only the busy loser fails', async () => {
    const w = fakeWriter({ busy: ['b'] });
    const g = new GroupCommit(w);
    assert.deepEqual(await Promise.all(['a', 'b', 'c'].map((id) => outcome(g.commit(ch(id))))), ['ok', 'BusyConflictError', 'ok']);
    assert.deepEqual(w.batches, [['a', 'b', 'c'], ['a'], ['b'], ['c']]);
  });

  it('fails every item, without retrying, when the statement may have committed (a lost connection)', async () => {
    const w = fakeWriter({ lostConnection: true });
    const g = new GroupCommit(w);
    const results = await Promise.allSettled(['a', 'b'].map((id) => g.commit(ch(id))));
    assert.deepEqual(results.map((r) => r.status === 'rejected' && (r.reason as Error).message), ['connection lost', 'connection lost']);
    assert.deepEqual(w.batches, [['a', 'b']]);
  });

  it('never puts two changes of one call, or one record key twice, in one statement', async () => {
    const w = fakeWriter();
    const g = new GroupCommit(w);
    const shared = [{ userId: 'amy', record: record('shared') }];
    await Promise.all([g.commit(ch('a')), g.commit(ch('b', { records: shared })), g.commit(ch('a')), g.commit(ch('c', { records: shared }))]);
    assert.deepEqual(w.batches, [['a', 'b'], ['a', 'c']]);
    w.batches.length = 0;
    await Promise.all([g.commit(ch('d', { records: shared })), g.commit(ch('e', { records: shared }))]);
    assert.deepEqual(w.batches, [['d'], ['e']]);
  });

  it('sends trace steps appended in the turn with its commits, and alone when nothing else is queued', async () => {
    const w = fakeWriter();
    const g = new GroupCommit(w);
    const step = (callId: string) => [{ callId, userId: 'amy', deviceId: 'd', step: 'received', time: 1, detail: null }];
    await Promise.all([g.commit(ch('a')), g.appendTrace(step('x')), g.commit(ch('b'))]);
    await g.appendTrace(step('y'));
    assert.deepEqual(w.batches, [['a', 'b', 'trace:x'], ['trace:y']]);
  });

  it('keeps at most one statement in flight: commits arriving meanwhile go together in the next', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batches: string[][] = [];
    const g = new GroupCommit({
      rolledBack: () => true,
      one: async (c) => {
        batches.push([c.state.callId]);
        await gate;
      },
      trace: async () => {},
      many: async (cs) => {
        batches.push(cs.map((c) => c.state.callId));
        return new Set(cs.map((c) => c.state.callId));
      },
    });
    const first = g.commit(ch('a'));
    await new Promise((r) => setImmediate(r));
    const later = [g.commit(ch('b')), g.commit(ch('c'))];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(batches, [['a']]);
    release();
    await Promise.all([first, ...later]);
    assert.deepEqual(batches, [['a'], ['b', 'c']]);
  });
});
