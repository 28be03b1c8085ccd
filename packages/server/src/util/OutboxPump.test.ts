import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OutboxPump } from './OutboxPump.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A promise with its resolver. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

async function until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('OutboxPump', () => {
  it('kicks during a pass coalesce into exactly one more pass', async () => {
    const g = gate();
    let passes = 0;
    const pump = new OutboxPump({
      pass: async () => {
        passes += 1;
        if (passes === 1) await g.wait;
      },
      pollIntervalMs: 60_000,
      onError: () => assert.fail('no error expected'),
    });
    pump.kick();
    assert.equal(passes, 0, 'a kick before start does nothing');
    pump.start();
    for (let i = 0; i < 5; i++) pump.kick();
    g.open();
    await until(() => passes === 2);
    await sleep(50);
    assert.equal(passes, 2);
    await pump.close();
  });

  it('polls without kicks, and again() from a pass runs the next pass at once', async () => {
    let passes = 0;
    let asked = false;
    const times: number[] = [];
    const pump = new OutboxPump({
      pass: async () => {
        passes += 1;
        times.push(Date.now());
        if (!asked) {
          asked = true;
          pump.again();
        }
      },
      pollIntervalMs: 150,
      onError: () => assert.fail('no error expected'),
    });
    pump.start();
    await until(() => passes >= 3);
    assert.ok(times[1]! - times[0]! < 100, `again() ran at once (${times[1]! - times[0]!} ms)`);
    assert.ok(times[2]! - times[1]! >= 140, `the third pass waited for the poll (${times[2]! - times[1]!} ms)`);
    await pump.close();
  });

  it('a pass that throws is reported and the loop backs off to the poll', async () => {
    const errors: unknown[] = [];
    const times: number[] = [];
    const pump = new OutboxPump({
      pass: async () => {
        times.push(Date.now());
        pump.again();
        throw new Error('database down');
      },
      pollIntervalMs: 150,
      onError: (err) => errors.push(err),
    });
    pump.start();
    await until(() => times.length >= 2);
    await pump.close();
    assert.equal((errors[0] as Error).message, 'database down');
    assert.ok(times[1]! - times[0]! >= 140, `no spinning on errors (${times[1]! - times[0]!} ms)`);
  });

  it('close() waits for the running pass, then nothing runs any more', async () => {
    const g = gate();
    let passes = 0;
    let finished = false;
    const pump = new OutboxPump({
      pass: async () => {
        passes += 1;
        await g.wait;
        finished = true;
      },
      pollIntervalMs: 10,
      onError: () => assert.fail('no error expected'),
    });
    pump.start();
    let closed = false;
    const closing = pump.close().then(() => (closed = true));
    assert.equal(pump.isClosed, true);
    await sleep(20);
    assert.equal(closed, false, 'close waits for the pass');
    g.open();
    await closing;
    assert.equal(finished, true);
    pump.kick();
    pump.start();
    await sleep(50);
    assert.equal(passes, 1);
  });
});
