/**
 * Renders docs/call-state-machine.md from the machine itself: every table row is produced by
 * running `transition` on a representative state (see scenarios.ts), so the document cannot drift
 * from the code. `scripts/gen-state-doc.ts` writes the file; stateDoc.test.ts fails when it is stale.
 */
import { CallMediaType } from '@opencall/protocol/wire';
import { nextDeadline } from './machine.js';
import { ADMIN, attempt, describeSend, inviteCommand, request, situations, startCommand } from './scenarios.js';
import type { Situation, SituationName } from './scenarios.js';
import type { CallState, Command, Effect, LegState } from './types.js';

/** Where the generated document lives, relative to the repository root. */
export const STATE_DOC_PATH = 'docs/call-state-machine.md';

/** Someone who sends commands in a situation. */
interface Actor {
  userId: string;
  /** The device the actor sends from. */
  deviceId: string;
  /** Another device of the actor (signs in, or joins from there). */
  otherDevice: string;
  /** Role as shown in the table. */
  role: string;
}

const caller = (role = 'caller'): Actor => ({ userId: 'alice', deviceId: 'a1', otherDevice: 'a2', role });
const user = (userId: string, role: string, otherDevice = `${userId[0]}2`): Actor => ({ userId, deviceId: `${userId[0]}1`, otherDevice, role });

/** The situations of the table, each with the actors worth showing in it. */
const SITUATIONS: { name: SituationName; title: string; actors: Actor[] }[] = [
  { name: 'ringing1to1', title: 'alice calls bob (1-to-1), bob rings on b1', actors: [caller(), user('bob', 'callee, ringing on 1 device'), user('erin', 'stranger')] },
  { name: 'ringingTwoDevices', title: 'alice calls bob, bob rings on b1 and b2 (multi-device)', actors: [user('bob', 'callee, ringing on 2 devices', 'b3')] },
  { name: 'ringingSignedOut', title: 'alice calls bob while bob is signed out', actors: [user('bob', 'callee, no device reached')] },
  { name: 'ringingMulti', title: 'alice calls bob and carol; both ring', actors: [caller(), user('bob', 'invitee, ringing')] },
  { name: 'active1to1', title: 'alice and bob connected (1-to-1)', actors: [caller('caller, connected'), user('bob', 'callee, connected')] },
  { name: 'active2Ringing1', title: 'alice and bob connected, carol ringing', actors: [caller('caller, connected'), user('carol', 'invitee, ringing')] },
  { name: 'active3', title: 'alice, bob and carol connected', actors: [caller('caller, connected'), user('carol', 'invitee, connected')] },
  { name: 'active2Invited1', title: 'alice and bob connected, dave invited while signed out', actors: [user('dave', 'invitee, no device reached')] },
  { name: 'active2Left1', title: 'alice and bob connected, carol left', actors: [user('carol', 'left')] },
  { name: 'active2Rejected1', title: 'alice and bob connected, carol rejected', actors: [user('carol', 'rejected')] },
  { name: 'ended', title: 'a 1-to-1 call that ended (bob hung up)', actors: [user('bob', 'left'), user('erin', 'stranger')] },
];

/** The commands every actor is tried with. */
function actorCommands(s: CallState, a: Actor): { label: string; command: Command }[] {
  const other = s.mediaType === CallMediaType.video ? CallMediaType.audio : CallMediaType.video;
  const invitee = s.members['dave'] ? 'erin' : 'dave';
  return [
    ...(['accept', 'reject', 'ignore', 'hangup'] as const).map((t) => ({ label: t, command: request(t, a.userId, a.deviceId) })),
    { label: `invite [${invitee}]`, command: inviteCommand(a.userId, a.deviceId, [invitee]) },
    { label: 'join', command: { type: 'join', userId: a.userId, deviceId: a.deviceId, busyElsewhere: false, maxParticipants: 9 } },
    { label: 'join, busy elsewhere', command: { type: 'join', userId: a.userId, deviceId: a.deviceId, busyElsewhere: true, maxParticipants: 9 } },
    { label: `join from ${a.otherDevice}`, command: { type: 'join', userId: a.userId, deviceId: a.otherDevice, busyElsewhere: false, maxParticipants: 9 } },
    { label: `switchMediaType ${CallMediaType[other]}`, command: { type: 'switchMediaType', userId: a.userId, deviceId: a.deviceId, mediaType: other } },
    { label: `deviceOnline ${a.otherDevice}`, command: { type: 'deviceOnline', userId: a.userId, deviceId: a.otherDevice, busyElsewhere: false } },
    { label: `deviceOffline ${a.deviceId}`, command: { type: 'deviceOffline', userId: a.userId, deviceId: a.deviceId } },
  ];
}

/** Commands that come from timers and the admin rather than a participant, with the clock to run them at. */
function callCommands(sit: Situation): { label: string; command: Command; now: number }[] {
  const next = nextDeadline(sit.state);
  const tick: Command = { type: 'tick' };
  const ticks =
    next === null
      ? [{ label: 'tick (no deadline pending)', command: tick, now: sit.now + 60_000 }]
      : [
          { label: 'tick before the deadline', command: tick, now: next - 1 },
          { label: 'tick at the deadline', command: tick, now: next },
        ];
  return [
    ...ticks,
    { label: 'endByServer', command: { type: 'endByServer', adminId: ADMIN }, now: sit.now + 1000 },
    { label: 'mediaConnected', command: { type: 'mediaConnected' }, now: sit.now + 200 },
  ];
}

/** Sends grouped by consecutive recipient: `bob/b1: onCallBegin video, onUserJoin alice · …`. */
function eventsText(effects: Effect[]): string {
  const groups: { to: string; events: string[] }[] = [];
  for (const e of effects) {
    if (e.kind !== 'send') continue;
    const text = describeSend(e);
    const to = text.slice(0, text.indexOf(' '));
    const last = groups.at(-1);
    if (last?.to === to) last.events.push(text.slice(to.length + 1));
    else groups.push({ to, events: [text.slice(to.length + 1)] });
  }
  return groups.map((g) => `${g.to}: ${g.events.join(', ')}`).join(' · ') || '—';
}

const legOf = (s: CallState, userId: string): LegState | '—' => s.members[userId]?.state ?? '—';

/** One table row: runs the command at `now` and describes what happened. */
function row(sit: Situation, actor: Actor | null, label: string, command: Command, now: number): string {
  const out = attempt(sit.state, command, now);
  const legBefore = actor ? legOf(sit.state, actor.userId) : '';
  const cells = [sit.state.phase, actor ? `${actor.userId}: ${actor.role} (${legBefore})` : '—', `\`${label}\``];
  if (!out.ok) return `| ${[...cells, `refused ${out.code}: ${out.message}`, '', '', ''].join(' | ')} |`;
  const r = out.result;
  const outcome = r.state === sit.state ? 'no-op' : Array.isArray(r.reply) ? `ok → [${r.reply.join(', ')}]` : 'ok';
  const legAfter = actor ? legOf(r.state, actor.userId) : '';
  const leg = legAfter === legBefore ? '' : `${legBefore} → ${legAfter}`;
  const phase = r.state.phase === sit.state.phase ? '' : r.state.phase;
  return `| ${[...cells, outcome, leg, phase, eventsText(r.effects)].join(' | ')} |`;
}

/** Adds the leg-state edges a command causes (every member) to `edges`: `from → to` → command types. */
function recordEdges(edges: Map<string, Set<string>>, before: CallState | null, command: Command, now: number): void {
  const out = attempt(before, command, now);
  if (!out.ok) return;
  for (const [u, m] of Object.entries(out.result.state.members)) {
    const from = before?.members[u]?.state ?? '(new)';
    if (from === m.state) continue;
    const key = `${from} → ${m.state}`;
    edges.set(key, (edges.get(key) ?? new Set()).add(command.type));
  }
}

const INTRO = `# Call state machine

> Generated by \`node --import tsx --conditions=source scripts/gen-state-doc.ts\` from
> \`packages/server/src/call/machine.ts\` — do not edit by hand; \`stateDoc.test.ts\` fails when this
> file is stale. Every row below was produced by running \`transition\` on a representative call.

The server owns every call decision (SPEC §5). A call is one persisted document (\`CallState\`)
changed only by the pure function \`transition(state, command, now) → { state, effects, reply }\`.
Commands carry every outside fact they need (\`ctx.busy\`, \`ctx.devices\`, \`busyElsewhere\`) — the
CallService gathers them — so the machine never reads clocks, storage or presence. A refused command
throws \`MachineError\` (-1202 invalid parameter, -1203 refused in this state, -1205 not supported in
this scene) and changes nothing; a harmless repeat (a second hangup, a tick before any deadline) is a
**no-op**: same state, same version, no effects. Every change bumps \`version\` by exactly one.
Effects are data: \`send\` (one observer callback to one device), \`webhook\` (with a per-call
increasing \`seq\`) and \`record\` (one per user: when their part ends if the call goes on without them, else when the call ends; none for ephemeral calls).

## Call phases

\`\`\`
ringing ──first connect (accept / join)──▶ active ──≤ 1 connected──▶ ended
   │                                                                   ▲
   └── caller cancels or drops · no invitee pending · endByServer ─────┘
\`\`\`

## Leg states

A leg is one user's part in a call (user × device × attempt). \`join\` after a leg ended opens the
user's next attempt; re-inviting does too.

\`\`\`
caller:   calling ──callee connects──▶ joined ──hangup──▶ left
             └──cancel / drop / everyone declined──▶ canceled | endByServer
                                                          (joined ──device gone──▶ offline)
invitee:  invited ──a device is rung──▶ ringing ──accept / join──▶ joined ──hangup──▶ left
             │  ▲                          │                          └──device gone──▶ offline
             │  └──last ringing device gone┘
             ├──busy (at invite or at sign-in) / ignore on every device──▶ busy
             ├──deadline──▶ noResponse          ringing ──reject / hangup──▶ rejected
             └──call ends first──▶ canceled | endByServer
\`\`\`
`;

/** Renders the whole document (deterministic: fixed clock, fixed cast). */
export function renderStateDoc(): string {
  const edges = new Map<string, Set<string>>();
  const lines: string[] = [INTRO, '## Transitions', ''];
  lines.push(
    'Columns: call phase before · actor (role, leg before) · command · outcome · actor leg change ·',
    'phase change · events in order, as `user/device: event key-args` (reasons are `CallEndReason`',
    'names, `onCallEnd` shows totalTime). The cast: alice (a1) calls; bob (b1, b2), carol (c1), dave',
    '(d1) are invitees; erin is a stranger; the admin is `administrator`. Ring timeout 30 s.',
    '',
    '### Starting a call',
    '',
    '| command | outcome | phase after | events |',
    '|---|---|---|---|',
  );
  const starts: [string, Command][] = [
    ['calls [bob]', startCommand('alice', ['bob'])],
    ['calls [bob, carol], carol busy', startCommand('alice', ['bob', 'carol'], { busy: ['carol'] })],
    ['calls [bob], bob busy', startCommand('alice', ['bob'], { busy: ['bob'] })],
    ['calls [bob], bob signed out', startCommand('alice', ['bob'], { devices: { bob: [] } })],
    ['calls []', startCommand('alice', [])],
    ['calls [alice] (self)', startCommand('alice', ['alice'])],
    ['calls 9 users (10 with the caller, maxParticipants 9)', startCommand('alice', ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8', 'u9'])],
  ];
  for (const [label, cmd] of starts) {
    const out = attempt(null, cmd, 0);
    recordEdges(edges, null, cmd, 0);
    const cells = out.ok ? ['ok', out.result.state.phase, eventsText(out.result.effects)] : [`refused ${out.code}: ${out.message}`, '', ''];
    lines.push(`| \`${label}\` | ${cells.join(' | ')} |`);
  }
  lines.push('');
  for (const { name, title, actors } of SITUATIONS) {
    const sit = situations[name]();
    lines.push(`### ${title}`, '', '| phase | actor | command | outcome | leg | phase after | events |', '|---|---|---|---|---|---|---|');
    for (const a of actors) {
      for (const { label, command } of actorCommands(sit.state, a)) {
        lines.push(row(sit, a, label, command, sit.now));
        recordEdges(edges, sit.state, command, sit.now);
      }
    }
    for (const { label, command, now } of callCommands(sit)) {
      lines.push(row(sit, null, label, command, now));
      recordEdges(edges, sit.state, command, now);
    }
    lines.push('');
  }
  lines.push('## Leg edges seen in the tables', '', '| edge | caused by |', '|---|---|');
  for (const [edge, types] of [...edges].sort(([a], [b]) => a.localeCompare(b))) lines.push(`| ${edge} | ${[...types].sort().join(', ')} |`);
  return `${lines.join('\n')}\n`;
}
