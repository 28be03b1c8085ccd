import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedMutex } from './Mutex.js';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('KeyedMutex', () => {
  it('runs one function at a time per key, in call order, keys in parallel, and forgets idle keys', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const job = (name: string, ms: number) => async () => {
      log.push(`${name}+`);
      await tick(ms);
      log.push(`${name}-`);
      return name;
    };
    const runs = [m.run('a', job('a1', 20)), m.run('a', job('a2', 1)), m.run('b', job('b1', 5))];
    assert.equal(m.size, 2);
    assert.deepEqual(await Promise.all(runs), ['a1', 'a2', 'b1']);
    assert.deepEqual(log, ['a1+', 'b1+', 'b1-', 'a1-', 'a2+', 'a2-']);
    await tick(0);
    assert.equal(m.size, 0);
  });

  it('a failure rejects only its own run; the next one of the key still runs', async () => {
    const m = new KeyedMutex();
    const bad = m.run('k', () => Promise.reject(new Error('boom')));
    const good = m.run('k', () => 7);
    await assert.rejects(bad, /boom/);
    assert.equal(await good, 7);
  });
});
