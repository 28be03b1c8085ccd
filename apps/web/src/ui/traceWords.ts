/**
 * A call's delivery trace (SPEC §9, `engine.getCallTrace`) in plain words: per invited person, in
 * order, where it rang, each push with its service, answer and latency, whether the app or the
 * notification showed the call, and how the invitation ended, plus a one-line answer to "did it
 * ring?". Pure functions, so the wording is tested without a browser.
 * @packageDocumentation
 */
import type { CallTraceStep } from '@opencall/client';

/** How a line reads: fine, worth a look, or the reason it did not ring. */
export type TraceTone = 'ok' | 'info' | 'warn' | 'bad';

/** One step as a sentence. */
export interface TraceLine {
  time: number;
  text: string;
  tone: TraceTone;
  /** The trace's step name, for tests and tooltips. */
  step: string;
}

/** One invited person's steps and what they add up to. */
export interface TraceGroup {
  userId: string;
  /** "Rang in the app, then answered." and the like. */
  summary: string;
  lines: TraceLine[];
}

/** Push services by the trace's provider name. */
const PROVIDERS: Record<string, string> = {
  webpush: 'Web Push',
  fcm: 'Firebase Cloud Messaging',
  apns: 'Apple Push (APNs)',
  webhook: "the app's own push service",
};

/** How an invitation ended, as the end of "The invitation ended: …". */
const ENDINGS: Record<string, string> = {
  accepted: 'answered',
  rejected: 'declined',
  noResponse: 'not answered in time',
  busy: 'busy in another call',
  canceled: 'canceled by the caller',
  offline: 'a device was unreachable',
  endByServer: 'ended by the server',
};

/** How a sentence names a person: by name, or "you" for the signed-in user. */
export interface Who {
  /** At the start of a sentence: "Bob" / "You". */
  name: string;
  /** Inside a sentence: "Bob" / "you". */
  mid: string;
  /** Possessive: "Bob's" / "your". */
  of: string;
  /** Possessive at the start of a sentence: "Bob's" / "Your". */
  Of: string;
  /** "was" / "were". */
  was: string;
  /** "has" / "have". */
  has: string;
}

/** The {@link Who} of a person called `name`, or of the signed-in user when `isSelf`. */
export function who(name: string, isSelf = false): Who {
  return isSelf
    ? { name: 'You', mid: 'you', of: 'your', Of: 'Your', was: 'were', has: 'have' }
    : { name, mid: name, of: `${name}'s`, Of: `${name}'s`, was: 'was', has: 'has' };
}

/** Whose call this is: the signed-in user and this browser's device, to say "you" and "this browser". */
export interface Viewer {
  userId: string;
  deviceId: string;
}

/** A device id short enough to read. */
export function shortDevice(deviceId: string | undefined): string {
  if (!deviceId) return '';
  return deviceId.length <= 10 ? deviceId : `${deviceId.slice(0, 8)}…`;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** "(HTTP 201, 45 ms)", "(no answer, 10000 ms)". */
function answer(detail: Record<string, unknown>): string {
  const status = num(detail['status']);
  const ms = num(detail['ms']);
  const parts = [status ? `HTTP ${status}` : 'no answer', ms !== null ? `${ms} ms` : null].filter(Boolean);
  return `(${parts.join(', ')})`;
}

/** One step in words; `p` names the person, `ownDevice` is this browser's device id. */
export function describeStep(s: CallTraceStep, p: Who, ownDevice?: string): TraceLine {
  const d = s.detail ?? {};
  const device = shortDevice(s.deviceId);
  const on = s.deviceId && s.deviceId === ownDevice ? ' (this browser)' : device ? ` (device ${device})` : '';
  const withdraw = d['kind'] === 'withdraw';
  const provider = PROVIDERS[str(d['provider']) ?? ''] ?? str(d['provider']) ?? 'the push service';
  const line = (text: string, tone: TraceTone): TraceLine => ({ time: s.time, text, tone, step: s.step });
  switch (s.step) {
    case 'rung':
      return line(`Rang on ${p.of} open app${on}.`, 'ok');
    case 'received':
      return line(`${p.Of} app showed the incoming call${on}.`, 'ok');
    case 'push.queued': {
      if (!withdraw) return line(`${p.name} had no app open, so a push notification was prepared.`, 'info');
      const ended = ENDINGS[str(d['reason']) ?? ''] ?? 'ended';
      return line(`The invitation ended (${ended}), so a push to take the notification back was prepared.`, 'info');
    }
    case 'push.sent':
      return line(withdraw ? `Push to take the notification back sent through ${provider} ${answer(d)}.` : `Push sent through ${provider}, which accepted it ${answer(d)}.`, 'ok');
    case 'push.failed': {
      const error = str(d['error']);
      return line(`Push${withdraw ? ' to take the notification back' : ''} through ${provider} failed${error ? `: ${error}` : ''} ${answer(d)}.`, 'bad');
    }
    case 'push.gone':
      return line(`${provider} says ${p.of} registration no longer exists ${answer(d)}; it was removed.`, 'bad');
    case 'push.none':
      return line(`No push could be sent: ${p.mid} ${p.has} not allowed notifications on any device.`, 'bad');
    case 'push.skipped':
      return line('The push was not sent: the invitation had already ended.', 'info');
    case 'push.expired':
      return line('The push was not sent: the ringing time was over before it could go out.', 'warn');
    case 'notification.shown':
      return line(`${p.Of} device showed the call notification.`, 'ok');
    case 'accepted':
      return line(`${p.name} answered${on}.`, 'ok');
    case 'joined':
      return line(`${p.name} joined the call${on}.`, 'ok');
    case 'rejected':
      return line(`${p.name} declined the call.`, 'warn');
    case 'noResponse':
      return line(`${p.name} did not answer in time.`, 'warn');
    case 'busy':
      return line(`${p.name} ${p.was} busy in another call.`, 'warn');
    case 'canceled':
      return line(`The caller hung up before ${p.mid} answered.`, 'warn');
    case 'offline':
      return line(`The invitation to ${p.mid} ended: a device was unreachable.`, 'warn');
    case 'endByServer':
      return line('The server ended the call.', 'warn');
    default:
      return line(`${s.step}${on}.`, 'info');
  }
}

/** "Did it ring, and how did it end?" from one person's steps. */
function summarize(steps: readonly CallTraceStep[]): string {
  const has = (step: string): boolean => steps.some((s) => s.step === step);
  const rang = has('received')
    ? 'Rang in the app'
    : has('notification.shown')
      ? 'Shown as a notification'
      : has('rung')
        ? 'Rang, but no app confirmed showing it'
        : has('push.sent')
          ? 'Pushed, but no device confirmed showing it'
          : has('push.failed') || has('push.gone') || has('push.none') || has('push.expired')
            ? 'Did not ring: no push got through'
            : 'Did not ring';
  const endings = steps.filter((s) => ['accepted', 'joined', ...Object.keys(ENDINGS)].includes(s.step));
  const last = endings.at(-1)?.step;
  const end = last === 'accepted' || last === 'joined' ? 'answered' : last ? ENDINGS[last] : null;
  return end ? `${rang}; ${end}.` : `${rang}.`;
}

/**
 * Groups the steps by invited person (in order of their first step) and words them. `nameOf`
 * gives a display name for a user id; `viewer` (the signed-in user and device) is "you" and "this browser".
 */
export function describeTrace(steps: readonly CallTraceStep[], nameOf: (userId: string) => string, viewer?: Viewer): TraceGroup[] {
  const byUser = new Map<string, CallTraceStep[]>();
  for (const s of [...steps].sort((a, b) => a.time - b.time)) {
    const list = byUser.get(s.userId) ?? [];
    list.push(s);
    byUser.set(s.userId, list);
  }
  return [...byUser].map(([userId, list]) => ({
    userId,
    summary: summarize(list),
    lines: list.map((s) => describeStep(s, who(nameOf(userId), userId === viewer?.userId), viewer?.deviceId)),
  }));
}
