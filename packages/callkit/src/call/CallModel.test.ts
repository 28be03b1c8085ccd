/** The page's call model: phases and people follow engine events in the order the engine sends them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallMediaType, NetworkQuality } from '@opencall/client';
import { CallModel } from './CallModel.js';
import type { Change } from './CallModel.js';

const outcome = { title: 't', detail: 'd', tone: 'neutral' as const };

describe('CallModel', () => {
  it('outgoing 1-to-1: dialing → connected → ended, peers from the invite then joins', () => {
    const m = new CallModel('a');
    const changes: Change[] = [];
    m.subscribe((c) => changes.push(c));
    m.dialing(['b'], CallMediaType.video);
    assert.equal(m.phase, 'outgoing');
    assert.deepEqual(m.ringing.map((p) => p.userId), ['b']);
    assert.equal(m.self.video, true);
    m.dialed('c_1');
    m.begin('c_1', CallMediaType.video, 1000);
    m.join('b');
    assert.deepEqual(m.joined.map((p) => p.userId), ['b']);
    assert.equal(m.connectedAt, 1000);
    m.ended(outcome);
    assert.equal(m.phase, 'ended');
    assert.equal(m.isActive, false);
    assert.deepEqual(changes, ['phase', 'phase', 'peers', 'phase']);
  });

  it('preview: nothing placed (a ring may take over), then dialing from it', () => {
    const m = new CallModel('a');
    const phases: string[] = [];
    m.subscribe(() => phases.push(m.phase));
    m.previewing(['b'], CallMediaType.video);
    assert.equal(m.phase, 'preview');
    assert.equal(m.isActive, false, 'the preview is not a call');
    assert.equal(m.self.video, true);
    assert.deepEqual(m.ringing.map((p) => p.userId), ['b']);
    m.dialing(['b'], CallMediaType.video);
    assert.equal(m.phase, 'outgoing');
    assert.equal(m.isActive, true);
    assert.deepEqual(phases, ['preview', 'outgoing']);
  });

  it('a calls() answer arriving after the call ended does not revive it', () => {
    const m = new CallModel('a');
    m.dialing(['b'], CallMediaType.audio);
    m.ended(outcome);
    m.dialed('c_1');
    assert.equal(m.callId, null);
    assert.equal(m.phase, 'ended');
  });

  it('incoming group call: other invitees show as ringing once connected; a second ring is refused while busy', () => {
    const m = new CallModel('b');
    assert.equal(m.received('c_1', 'a', ['b', 'c'], CallMediaType.audio), true);
    assert.equal(m.isGroup, true);
    assert.equal(m.received('c_2', 'x', ['b'], CallMediaType.audio), false);
    assert.equal(m.callId, 'c_1');
    m.begin('c_1', CallMediaType.audio, 5);
    m.join('a');
    assert.deepEqual(m.joined.map((p) => p.userId), ['a']);
    assert.deepEqual(m.ringing.map((p) => p.userId), ['c']);
    m.join('c');
    assert.deepEqual(m.joined.map((p) => p.userId), ['a', 'c']);
    m.remove('a');
    assert.deepEqual([...m.peers.keys()], ['c']);
  });

  it('mic/camera state, levels and quality land on the right person (own id = self)', () => {
    const m = new CallModel('a');
    m.dialing(['b'], CallMediaType.video);
    m.begin('c_1', CallMediaType.video, 0);
    m.join('b');
    assert.equal(m.peers.get('b')!.video, null, 'unknown until told');
    m.setAvailable('b', 'audio', false);
    m.setAvailable('b', 'video', true);
    m.setAvailable('a', 'audio', false);
    m.volumes({ a: 0, b: 40, stranger: 99 });
    m.qualities([{ userId: 'a', quality: NetworkQuality.good }, { userId: 'b', quality: NetworkQuality.poor }]);
    const b = m.peers.get('b')!;
    assert.deepEqual([b.audio, b.video, b.volume, b.quality], [false, true, 40, NetworkQuality.poor]);
    assert.deepEqual([m.self.audio, m.self.quality], [false, NetworkQuality.good]);
    m.mediaTypeChanged(CallMediaType.audio);
    assert.deepEqual([m.self.video, b.video], [false, false]);
  });

  it('inviting adds a ringing person once and never the own id', () => {
    const m = new CallModel('a');
    m.dialing(['b'], CallMediaType.audio);
    m.begin('c_1', CallMediaType.audio, 0);
    m.join('b');
    m.inviting('c');
    m.inviting('c');
    m.inviting('a');
    assert.deepEqual(m.invitees, ['b', 'c']);
    assert.deepEqual(m.ringing.map((p) => p.userId), ['c']);
  });

  it('an invitee who declined before this callee answered is not shown as ringing', () => {
    const m = new CallModel('b');
    m.received('c_1', 'a', ['b', 'c', 'd'], CallMediaType.video);
    m.remove('c');
    m.begin('c_1', CallMediaType.video, 0);
    assert.deepEqual(m.ringing.map((p) => p.userId), ['d']);
    m.inviting('c');
    assert.deepEqual(m.ringing.map((p) => p.userId), ['d', 'c']);
  });
});
