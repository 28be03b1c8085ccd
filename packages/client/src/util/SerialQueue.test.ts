import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallEngineError } from '../errors.js';
import { SerialQueue } from './SerialQueue.js';

const queue = () => new SerialQueue((key) => CallEngineError.operationInProgress(key));
const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

test('run() rejects a second call of the same method at once with -1204', async () => {
  const q = queue();
  const gate = deferred();
  const first = q.run('accept', () => gate.promise);
  const t0 = Date.now();
  await assert.rejects(q.run('accept', () => undefined), (e: CallEngineError) => e.code === -1204 && /accept/.test(e.message));
  assert.ok(Date.now() - t0 < 50);
  gate.resolve();
  await first;
  await q.run('accept', () => undefined); // free again once settled
});

test('run() also refuses a method that is queued but not started yet', async () => {
  const q = queue();
  const gate = deferred();
  const a = q.run('calls', () => gate.promise);
  const b = q.run('hangup', () => 'h');
  await assert.rejects(q.run('hangup', () => 'again'), (e: CallEngineError) => e.code === -1204);
  gate.resolve();
  await a;
  assert.equal(await b, 'h');
});

test('run() executes different methods one at a time in call order', async () => {
  const q = queue();
  const log: string[] = [];
  let running = 0;
  const task = (name: string, ms: number) => async () => {
    running++;
    assert.equal(running, 1, 'two tasks overlapped');
    log.push(`start ${name}`);
    await new Promise((r) => setTimeout(r, ms));
    log.push(`end ${name}`);
    running--;
    return name;
  };
  const results = await Promise.all([q.run('calls', task('calls', 20)), q.run('hangup', task('hangup', 1)), q.run('unInit', task('unInit', 5))]);
  assert.deepEqual(results, ['calls', 'hangup', 'unInit']);
  assert.deepEqual(log, ['start calls', 'end calls', 'start hangup', 'end hangup', 'start unInit', 'end unInit']);
});

test('a failing task (thrown or rejected) rejects its own caller and does not stop the queue', async () => {
  const q = queue();
  const a = q.run('a', () => {
    throw new Error('sync boom');
  });
  const b = q.run('b', () => Promise.reject(new Error('async boom')));
  const c = q.run('c', () => 'ok');
  await assert.rejects(a, /sync boom/);
  await assert.rejects(b, /async boom/);
  assert.equal(await c, 'ok');
  assert.equal(q.size, 0);
});
