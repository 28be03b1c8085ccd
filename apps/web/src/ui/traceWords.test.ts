import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CallTraceStep } from '@opencall/client';
import { describeStep, describeTrace, shortDevice, who } from './traceWords.js';

const step = (userId: string, s: string, time: number, detail?: Record<string, unknown>, deviceId?: string): CallTraceStep => ({
  userId,
  step: s,
  time,
  ...(deviceId ? { deviceId } : {}),
  ...(detail ? { detail } : {}),
});
const names: Record<string, string> = { bob: 'Bob', carol: 'Carol' };
const nameOf = (u: string): string => names[u] ?? u;

describe('trace in words', () => {
  it('words each push outcome with its service, answer and latency', () => {
    const cases: [CallTraceStep, string, string][] = [
      [step('bob', 'push.failed', 1, { kind: 'invite', provider: 'webpush', status: 403, ms: 12, error: 'HTTP 403' }), 'Push through Web Push failed: HTTP 403 (HTTP 403, 12 ms).', 'bad'],
      [step('bob', 'push.failed', 1, { kind: 'invite', provider: 'fcm', status: 0, ms: 10000, error: 'timed out after 10000 ms' }), 'Push through Firebase Cloud Messaging failed: timed out after 10000 ms (no answer, 10000 ms).', 'bad'],
      [step('bob', 'push.gone', 1, { kind: 'invite', provider: 'apns', status: 410, ms: 30 }), "Apple Push (APNs) says Bob's registration no longer exists (HTTP 410, 30 ms); it was removed.", 'bad'],
      [step('bob', 'push.none', 1, { kind: 'invite', reason: 'no push registration' }), 'No push could be sent: Bob has not allowed notifications on any device.', 'bad'],
      [step('bob', 'push.expired', 1, { kind: 'invite' }), 'The push was not sent: the ringing time was over before it could go out.', 'warn'],
      [step('bob', 'push.sent', 1, { kind: 'withdraw', provider: 'webhook', status: 200, ms: 4 }), "Push to take the notification back sent through the app's own push service (HTTP 200, 4 ms).", 'ok'],
      [step('bob', 'busy', 1), 'Bob was busy in another call.', 'warn'],
      [step('bob', 'joined', 1, undefined, 'browser-1'), 'Bob joined the call (device browser-1).', 'ok'],
      [step('bob', 'something.new', 1), 'something.new.', 'info'],
    ];
    for (const [s, text, tone] of cases) {
      const line = describeStep(s, who('Bob'));
      assert.equal(line.text, text);
      assert.equal(line.tone, tone, text);
    }
  });

  it('groups by person in time order with a verdict that answers "did it ring?"', () => {
    const groups = describeTrace(
      [
        step('carol', 'push.queued', 2, { kind: 'invite' }),
        step('bob', 'rung', 1, undefined, 'd1'),
        step('carol', 'push.failed', 4, { kind: 'invite', provider: 'webpush', status: 403, ms: 5 }),
        step('bob', 'received', 3, undefined, 'd1'),
        step('bob', 'noResponse', 9),
        step('carol', 'noResponse', 9),
      ],
      nameOf,
    );
    assert.deepEqual(
      groups.map((g) => [g.userId, g.summary, g.lines.map((l) => l.step)]),
      [
        ['bob', 'Rang in the app; not answered in time.', ['rung', 'received', 'noResponse']],
        ['carol', 'Did not ring: no push got through; not answered in time.', ['push.queued', 'push.failed', 'noResponse']],
      ],
    );
    assert.equal(groups[1]!.lines[0]!.text, 'Carol had no app open, so a push notification was prepared.');
  });

  it('the signed-in user reads "you", and their own device "this browser"', () => {
    const groups = describeTrace(
      [
        step('bob', 'rung', 1, undefined, 'other-device-1234'),
        step('bob', 'rung', 1, undefined, 'mine'),
        step('bob', 'received', 2, undefined, 'mine'),
        step('bob', 'busy', 3),
        step('bob', 'push.none', 3, { kind: 'invite' }),
      ],
      nameOf,
      { userId: 'bob', deviceId: 'mine' },
    );
    assert.deepEqual(groups[0]!.lines.map((l) => l.text), [
      'Rang on your open app (device other-de…).',
      'Rang on your open app (this browser).',
      'Your app showed the incoming call (this browser).',
      'You were busy in another call.',
      'No push could be sent: you have not allowed notifications on any device.',
    ]);
  });

  it('shortens long device ids', () => {
    assert.equal(shortDevice('abc'), 'abc');
    assert.equal(shortDevice('0123456789abcdef'), '01234567…');
    assert.equal(shortDevice(undefined), '');
  });
});
