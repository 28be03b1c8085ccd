/**
 * Server frames as the client reads them (issue 14): one message or a batch (items may leave out
 * `v`), each item checked on its own; event ids sent without the callId the event carries.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerFrame as plain, parseServerMessage } from './validate.js';
import { parseServerFrame as compiled } from './compiled.js';
import { fullEventId, wireEventId } from './signaling/server-to-client.js';
import type { ServerEvent } from './signaling/server-to-client.js';

const C = 'c_abcdefghijklmnopqrstuv';
const join = { name: 'onUserJoin', callId: C, userId: 'bob' } as const;
const event = { v: 1, type: 'event', seq: 4, event: join, eid: ':2:1' };
const response = { v: 1, type: 'response', id: 3, ok: true, data: {} };

for (const [name, parseServerFrame] of [['plain', plain], ['compiled', compiled]] as const) {
  describe(`parseServerFrame (${name})`, () => {
    it('reads a single message exactly as parseServerMessage does', () => {
      for (const m of [event, response, { v: 1, type: 'error', error: { code: 4001, message: 'x' } }]) {
        const raw = JSON.stringify(m);
        assert.deepEqual(parseServerFrame(raw), [{ ok: true, message: parseServerMessage(raw) }]);
      }
    });

    it('reads a batch item by item, in order; items without `v` get the batch\'s', () => {
      const bare: Record<string, unknown> = { ...event };
      delete bare['v'];
      const items = parseServerFrame(JSON.stringify({ v: 1, type: 'batch', m: [bare, response] }));
      assert.deepEqual(items, [{ ok: true, message: event }, { ok: true, message: response }]);
    });

    it('a refused item comes back raw (its seq or id still readable) and costs the others nothing', () => {
      const bad = { type: 'event', seq: 5, event: { name: 'onSomethingNew', callId: C } };
      const items = parseServerFrame(JSON.stringify({ v: 1, type: 'batch', m: [bad, response, { v: 1, type: 'batch', m: [] }, 7] }));
      assert.deepEqual(items, [
        { ok: false, raw: { ...bad, v: 1 } },
        { ok: true, message: response },
        { ok: false, raw: { v: 1, type: 'batch', m: [] } },
        { ok: false, raw: 7 },
      ]);
    });

    it('null for text that is not JSON or a malformed batch envelope', () => {
      assert.equal(parseServerFrame('{nope'), null);
      assert.equal(parseServerFrame(JSON.stringify({ v: 2, type: 'batch', m: [] })), null);
      assert.equal(parseServerFrame(JSON.stringify({ v: 1, type: 'batch', m: 'x' })), null);
    });
  });
}

describe('event ids on the wire', () => {
  it('leave out the callId the event names, and come back whole', () => {
    const e: ServerEvent = join;
    assert.equal(wireEventId(e, `${C}:2:1`), ':2:1');
    assert.equal(fullEventId(e, ':2:1'), `${C}:2:1`);
  });

  it('keep an id that does not start with the event\'s callId, or an event without one, unchanged', () => {
    assert.equal(wireEventId(join, 'c_other_call_entirely_x:2:1'), 'c_other_call_entirely_x:2:1');
    assert.equal(wireEventId({ name: 'onKickedOffline' }, 'k:1:0'), 'k:1:0');
    assert.equal(fullEventId(join, 'c_other_call_entirely_x:2:1'), 'c_other_call_entirely_x:2:1');
    assert.equal(fullEventId({ name: 'onKickedOffline' }, ':1:0'), ':1:0');
  });
});
