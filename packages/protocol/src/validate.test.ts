import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseClientMessage, parseServerMessage } from './validate.js';
import { ErrorCode } from './errors.js';

const frame = (o: unknown): string => JSON.stringify(o);

describe('parseClientMessage', () => {
  it('accepts a valid call.start and strips unknown fields', () => {
    const r = parseClientMessage(frame({ v: 1, id: 7, type: 'call.start', data: { userIds: ['bob'], mediaType: 1, extra: 'x' }, more: 1 }));
    assert.ok(r.ok);
    assert.deepEqual(r.message, { v: 1, id: 7, type: 'call.start', data: { userIds: ['bob'], mediaType: 1 } });
  });

  it('refuses non-JSON with 4001 and no id', () => {
    const r = parseClientMessage('{nope');
    assert.deepEqual(r.ok ? null : [r.id, r.error.code], [null, ErrorCode.MALFORMED_MESSAGE]);
  });

  it('refuses a bad envelope with 4001', () => {
    const r = parseClientMessage(frame({ v: 1, type: 'ping' }));
    assert.equal(r.ok ? 0 : r.error.code, ErrorCode.MALFORMED_MESSAGE);
  });

  it('refuses an unknown type with 4002, keeping the request id', () => {
    const r = parseClientMessage(frame({ v: 1, id: 3, type: 'call.teleport', data: {} }));
    assert.deepEqual(r.ok ? null : [r.id, r.error.code], [3, ErrorCode.UNKNOWN_MESSAGE_TYPE]);
  });

  it('refuses inherited property names as types', () => {
    const r = parseClientMessage(frame({ v: 1, id: 3, type: 'toString', data: {} }));
    assert.equal(r.ok ? 0 : r.error.code, ErrorCode.UNKNOWN_MESSAGE_TYPE);
  });

  it('refuses another protocol version with 4005', () => {
    const r = parseClientMessage(frame({ v: 2, id: 1, type: 'ping', data: {} }));
    assert.equal(r.ok ? 0 : r.error.code, ErrorCode.UNSUPPORTED_VERSION);
  });

  it('refuses a bad user id with -1202 naming the field', () => {
    const r = parseClientMessage(frame({ v: 1, id: 1, type: 'call.start', data: { userIds: ['bad id!'], mediaType: 1 } }));
    assert.ok(!r.ok);
    assert.equal(r.error.code, ErrorCode.INVALID_PARAMETER);
    assert.match(r.error.message, /userIds\.0/);
  });

  it('reports zod\'s English messages (zod/mini alone would say "Invalid input")', () => {
    const r = parseClientMessage(frame({ v: 1, id: 1, type: 'profile.set', data: { nickname: 'x'.repeat(129), avatar: 7 } }));
    assert.equal(r.ok ? '' : r.error.message, 'invalid parameter: nickname: Too big: expected string to have <=128 characters');
    const e = parseClientMessage(frame({ v: 1, id: 1, type: 'call.accept', data: {} }));
    assert.equal(e.ok ? '' : e.error.message, 'invalid parameter: callId: Invalid input: expected string, received undefined');
  });

  it('refuses media type none', () => {
    const r = parseClientMessage(frame({ v: 1, id: 1, type: 'call.start', data: { userIds: ['bob'], mediaType: 0 } }));
    assert.equal(r.ok ? 0 : r.error.code, ErrorCode.INVALID_PARAMETER);
  });
});

describe('parseServerMessage', () => {
  it('parses an event and returns null for garbage', () => {
    const ev = parseServerMessage(frame({ v: 1, type: 'event', seq: 1, event: { name: 'onUserJoin', callId: 'c_abcd', userId: 'bob' } }));
    assert.equal(ev?.type, 'event');
    assert.equal(parseServerMessage('garbage'), null);
    assert.equal(parseServerMessage(frame({ v: 1, type: 'event', seq: 1, event: { name: 'onNothing' } })), null);
  });
});
