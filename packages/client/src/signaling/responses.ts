/**
 * Checks of the `data` of successful responses. The protocol types responses only loosely
 * (`data: unknown`), so each answer the client relies on is checked here, once, and a malformed
 * answer becomes -1401 instead of a TypeError deep in application code.
 * @packageDocumentation
 */
import { CallRecordListSchema, CallTraceStepListSchema, UserProfileListSchema, isValidCallId, isValidUserId } from '@opencall/protocol/wire';
import type { AuthResult, CallRecord, CallTraceStep, UserProfile } from '@opencall/protocol/wire';
import { CallEngineError } from '../errors.js';

function bad(what: string): CallEngineError {
  return CallEngineError.signalingFailed(`malformed ${what} answer from the server`);
}

function record(data: unknown, what: string): Record<string, unknown> {
  if (data === null || typeof data !== 'object') throw bad(what);
  return data as Record<string, unknown>;
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** The `auth` answer; optional fields the client can live without get safe defaults. */
export function parseAuthResult(data: unknown): AuthResult {
  const d = record(data, 'auth');
  if (typeof d.sessionId !== 'string' || d.sessionId === '') throw bad('auth');
  const heartbeatIntervalMs = num(d.heartbeatIntervalMs, 5_000);
  return {
    sessionId: d.sessionId,
    resumed: d.resumed === true,
    heartbeatIntervalMs,
    heartbeatTimeoutMs: num(d.heartbeatTimeoutMs, heartbeatIntervalMs * 3),
    expireAt: num(d.expireAt, 0),
    serverTime: num(d.serverTime, Date.now()),
    iceServers: Array.isArray(d.iceServers) ? (d.iceServers as AuthResult['iceServers']) : [],
    maxParticipants: num(d.maxParticipants, 9),
    maxMessageBytes: num(d.maxMessageBytes, 64 * 1024),
    devicePolicy: d.devicePolicy === 'multi' ? 'multi' : 'kick',
  };
}

/** The `call.start` answer: the call's id. */
export function parseCallId(data: unknown): string {
  const { callId } = record(data, 'call.start');
  if (!isValidCallId(callId)) throw bad('call.start');
  return callId;
}

/** An answer `{ [key]: string[] }` of user ids (`call.invite`) or call ids (`records.delete`). */
export function parseIdList(data: unknown, key: 'userIds' | 'callIds', what: string): string[] {
  const list = record(data, what)[key];
  const valid = key === 'userIds' ? isValidUserId : isValidCallId;
  if (!Array.isArray(list) || !list.every((id) => valid(id))) throw bad(what);
  return list;
}

/** The `profile.get` answer. */
export function parseProfiles(data: unknown): UserProfile[] {
  const r = UserProfileListSchema.safeParse(record(data, 'profile.get').profiles);
  if (!r.success) throw bad('profile.get');
  return r.data;
}

/** The `records.query` answer. */
export function parseRecords(data: unknown): CallRecord[] {
  const r = CallRecordListSchema.safeParse(record(data, 'records.query').records);
  if (!r.success) throw bad(`records.query (${r.error.issues[0]?.path.join('.') ?? ''})`);
  return r.data;
}

/** The `call.trace` answer. */
export function parseTrace(data: unknown): CallTraceStep[] {
  const r = CallTraceStepListSchema.safeParse(record(data, 'call.trace').trace);
  if (!r.success) throw bad('call.trace');
  return r.data;
}
