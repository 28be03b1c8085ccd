/** Table test: every end reason, from each point of view, reads as a sentence a person understands. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason } from '@opencall/client';
import { describeError, describeOutcome, formatDuration } from './outcomes.js';
import type { EndFacts } from './outcomes.js';

const names: Record<string, string> = { a: 'Alice', b: 'Bob' };
const base: Omit<EndFacts, 'kind' | 'reason' | 'userId' | 'selfId' | 'isCaller'> = {
  callerId: 'a',
  isGroup: false,
  totalTime: 83_000,
  nameOf: (u) => names[u] ?? u,
};
const title = (kind: EndFacts['kind'], reason: CallEndReason, userId: string, selfId: string): string =>
  describeOutcome({ ...base, kind, reason, userId, selfId, isCaller: selfId === 'a' }).title;

describe('describeOutcome', () => {
  const rows: [EndFacts['kind'], CallEndReason, string, string, string][] = [
    // kind, reason, actor, viewer, title
    ['notConnected', CallEndReason.reject, 'b', 'a', 'Bob declined'],
    ['notConnected', CallEndReason.reject, 'b', 'b', 'Call declined'],
    ['notConnected', CallEndReason.noResponse, 'b', 'a', 'No answer'],
    ['notConnected', CallEndReason.noResponse, 'b', 'b', 'Missed call from Alice'],
    ['notConnected', CallEndReason.lineBusy, 'b', 'a', 'Bob is busy'],
    ['notConnected', CallEndReason.lineBusy, 'b', 'b', 'Call ignored'],
    ['notConnected', CallEndReason.canceled, 'a', 'a', 'Call canceled'],
    ['notConnected', CallEndReason.canceled, 'a', 'b', 'Missed call from Alice'],
    ['notConnected', CallEndReason.otherDeviceAccepted, 'b', 'b', 'Answered on another device'],
    ['notConnected', CallEndReason.otherDeviceReject, 'b', 'b', 'Declined on another device'],
    ['notConnected', CallEndReason.offline, 'b', 'b', 'Connection lost'],
    ['notConnected', CallEndReason.offline, 'a', 'b', 'Alice is unreachable'],
    ['notConnected', CallEndReason.endByServer, 'administrator', 'b', 'Call ended by the service'],
    ['ended', CallEndReason.hangup, 'a', 'a', 'Call ended'],
    ['ended', CallEndReason.hangup, 'a', 'b', 'Alice hung up'],
    ['ended', CallEndReason.offline, 'b', 'b', 'Connection lost'],
    ['ended', CallEndReason.offline, 'a', 'b', "Alice's connection was lost"],
    ['ended', CallEndReason.otherDeviceAccepted, 'b', 'b', 'Call moved to another device'],
    ['ended', CallEndReason.endByServer, 'administrator', 'a', 'Call ended by the service'],
  ];
  for (const [kind, reason, actor, viewer, expected] of rows) {
    it(`${kind} ${CallEndReason[reason]} by ${actor}, seen by ${viewer}: "${expected}"`, () => {
      assert.equal(title(kind, reason, actor, viewer), expected);
    });
  }

  it('a connected call ending says how long it lasted', () => {
    const o = describeOutcome({ ...base, kind: 'ended', reason: CallEndReason.hangup, userId: 'b', selfId: 'a', isCaller: true });
    assert.equal(o.detail, 'Duration 1:23');
    assert.equal(o.tone, 'neutral');
  });

  it('a lost connection is an error, a busy callee a warning', () => {
    assert.equal(describeOutcome({ ...base, kind: 'ended', reason: CallEndReason.offline, userId: 'a', selfId: 'a', isCaller: true }).tone, 'error');
    assert.equal(describeOutcome({ ...base, kind: 'notConnected', reason: CallEndReason.lineBusy, userId: 'b', selfId: 'a', isCaller: true }).tone, 'warn');
  });
});

describe('formatDuration', () => {
  it('formats m:ss under an hour and h:mm:ss above', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(9_999), '0:09');
    assert.equal(formatDuration(61_000), '1:01');
    assert.equal(formatDuration(3_723_000), '1:02:03');
    assert.equal(formatDuration(-5), '0:00');
  });
});

describe('describeError', () => {
  it('turns engine codes into sentences and keeps unknown messages', () => {
    assert.match(describeError(-1401, 'x'), /Cannot reach the server/);
    assert.match(describeError(-1202, 'cannot call yourself'), /cannot call yourself/);
    assert.equal(describeError(undefined, 'boom'), 'boom');
  });
});
