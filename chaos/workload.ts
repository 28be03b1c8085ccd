/**
 * The chaos workload: what a simulated user does next, drawn from a seeded random source and the
 * state the user believes it is in. It covers every user-facing action of SPEC §4–§5: 1-to-1 and
 * group calls, accept, reject, ignore (and letting it ring out), hang up and cancel, invite, join,
 * switching media, and signing in on another device.
 */
import { CallMediaType } from '@opencall/client';
import type { CallEngine } from '@opencall/client';
import type { Rng } from './rng.js';

/** What the workload needs to know about a user. */
export interface UserView {
  readonly id: string;
  readonly phase: 'idle' | 'ringing' | 'calling' | 'connected';
  readonly group: boolean;
  readonly media: CallMediaType;
  /** Calls this user heard of (candidates for `join`). */
  readonly known: readonly string[];
  /** The other users of its call, as far as it knows. */
  readonly peers: readonly string[];
}

/** The next step: an engine call, a new call, or signing in on another device. */
export type Step =
  | { name: 'calls'; args: [string[], CallMediaType] }
  | { name: 'signIn' }
  | { name: string; args: unknown[]; run: (e: CallEngine) => Promise<unknown> };

/**
 * Draws the next step for `u`, or null to keep waiting (a ringing call left to time out, a call
 * left running). A media user calls one of `mediaPeers` (the other media users) in most of its
 * 1-to-1 calls, so calls with media on both sides happen often enough to check.
 */
export function decide(rng: Rng, u: UserView, everyone: readonly string[], mediaPeers: readonly string[] = []): Step | null {
  const others = everyone.filter((x) => x !== u.id);
  const media = rng.chance(0.5) ? CallMediaType.audio : CallMediaType.video;
  switch (u.phase) {
    case 'idle': {
      const k = rng.weighted({ single: 40, group: 15, join: 6, signIn: 3, wait: 36 });
      if (k === 'single') return { name: 'calls', args: [[rng.pick(mediaPeers.length > 0 && rng.chance(0.7) ? mediaPeers : others)], media] };
      if (k === 'group') return { name: 'calls', args: [rng.sample(others, rng.int(2, 3)), media] };
      if (k === 'join' && u.known.length > 0) {
        const callId = rng.pick(u.known.slice(-5));
        return { name: 'join', args: [callId], run: (e) => e.join(callId) };
      }
      if (k === 'signIn') return { name: 'signIn' };
      return null;
    }
    case 'ringing': {
      const k = rng.weighted({ accept: 50, reject: 15, ignore: 10, hangup: 5, wait: 20 });
      if (k === 'wait') return null;
      return { name: k, args: [], run: (e) => e[k]() };
    }
    case 'calling':
      return rng.chance(0.15) ? { name: 'hangup', args: [], run: (e) => e.hangup() } : null;
    case 'connected': {
      // A media user holds a 1-to-1 call with another media user longer (about 10 s instead of
      // 2–3), so the media promise is checked over calls that outlast its slack.
      const holding = !u.group && u.peers.length === 1 && mediaPeers.includes(u.peers[0]!);
      const k = rng.weighted({ hangup: holding ? 6 : 25, invite: holding ? 3 : 10, switch: 8, signIn: 2, wait: 55 });
      if (k === 'hangup') return { name: 'hangup', args: [], run: (e) => e.hangup() };
      if (k === 'signIn') return { name: 'signIn' };
      if (k === 'invite') {
        const ids = rng.sample(others, rng.int(1, 2));
        return { name: 'inviteUser', args: [ids], run: (e) => e.inviteUser(ids) };
      }
      if (k === 'switch' && !u.group) {
        const to = u.media === CallMediaType.video ? CallMediaType.audio : CallMediaType.video;
        return { name: 'switchCallMediaType', args: [to], run: (e) => e.switchCallMediaType(to) };
      }
      return null;
    }
  }
}
