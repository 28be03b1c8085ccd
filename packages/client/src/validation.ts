/**
 * Client-side parameter checks (-1202 before anything is sent). They mirror the server's, which
 * stays authoritative: the client checks only what it can know for sure, so an application gets
 * the error at once and with a precise message.
 * @packageDocumentation
 */
import {
  CallMediaType,
  CallParamsSchema,
  RecentCallsFilterSchema,
  isValidCallId,
  isValidUserId,
} from '@opencall/protocol/wire';
import type { CallParams, PushTarget, RecentCallsFilter } from '@opencall/protocol/wire';
import { PushTargetSchema } from '@opencall/protocol/wire';
import { CallEngineError } from './errors.js';
import type { DeviceKind } from './media/MediaAdapter.js';

/** The media types a call can have. */
export type CallableMediaType = CallMediaType.audio | CallMediaType.video;

function firstIssue(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const i = issues[0];
  return i ? `${i.path.map(String).join('.') || 'value'}: ${i.message}` : 'invalid';
}

/** A user id (1–32 of `[A-Za-z0-9_-]`). */
export function checkUserId(id: unknown, what = 'userId'): string {
  if (!isValidUserId(id)) throw CallEngineError.invalidParameter(`${what} must be 1-32 of [A-Za-z0-9_-]: ${JSON.stringify(id)}`);
  return id;
}

/** A non-empty list of valid user ids, de-duplicated, order kept. */
export function checkUserIdList(list: unknown, max: number, what = 'userIdList'): string[] {
  if (!Array.isArray(list) || list.length === 0) throw CallEngineError.invalidParameter(`${what} must be a non-empty array`);
  const ids = [...new Set(list.map((id) => checkUserId(id, `${what} entry`)))];
  if (ids.length > max) throw CallEngineError.invalidParameter(`${what} holds more than ${max} users`);
  return ids;
}

/**
 * The callees of `calls()`: valid ids, duplicates dropped, never the caller, and with the caller
 * at most `maxParticipants` people (the server's limit from the auth answer).
 */
export function checkCallees(list: unknown, selfId: string, maxParticipants: number): string[] {
  const ids = checkUserIdList(list, Number.MAX_SAFE_INTEGER);
  if (ids.includes(selfId)) throw CallEngineError.invalidParameter('you cannot call yourself');
  if (ids.length + 1 > maxParticipants) {
    throw CallEngineError.invalidParameter(`a call holds at most ${maxParticipants} participants`);
  }
  return ids;
}

/** `audio` or `video`. */
export function checkMediaType(type: unknown): CallableMediaType {
  if (type !== CallMediaType.audio && type !== CallMediaType.video) {
    throw CallEngineError.invalidParameter('mediaType must be CallMediaType.audio or CallMediaType.video');
  }
  return type;
}

/** Optional `CallParams`, checked against the protocol schema (unknown fields dropped). */
export function checkCallParams(params: unknown): CallParams | undefined {
  if (params === undefined || params === null) return undefined;
  const r = CallParamsSchema.safeParse(params);
  if (!r.success) throw CallEngineError.invalidParameter(`params.${firstIssue(r.error.issues)}`);
  return r.data;
}

/** A call id in the server's shape. */
export function checkCallId(id: unknown): string {
  if (!isValidCallId(id)) throw CallEngineError.invalidParameter(`malformed callId: ${JSON.stringify(id)}`);
  return id;
}

/** A non-empty list of call ids (at most 500), de-duplicated. */
export function checkCallIdList(list: unknown): string[] {
  if (!Array.isArray(list) || list.length === 0) throw CallEngineError.invalidParameter('callIdList must be a non-empty array');
  const ids = [...new Set(list.map(checkCallId))];
  if (ids.length > 500) throw CallEngineError.invalidParameter('at most 500 call ids per request');
  return ids;
}

/** The optional filter of `queryRecentCalls`. */
export function checkRecentCallsFilter(filter: unknown): RecentCallsFilter {
  const r = RecentCallsFilterSchema.safeParse(filter ?? {});
  if (!r.success) throw CallEngineError.invalidParameter(`filter.${firstIssue(r.error.issues)}`);
  return r.data;
}

/** A string of at most `max` characters. */
export function checkText(value: unknown, max: number, what: string): string {
  if (typeof value !== 'string' || value.length > max) {
    throw CallEngineError.invalidParameter(`${what} must be a string of at most ${max} characters`);
  }
  return value;
}

/** A device kind of `getDeviceList` / `switchDevice`. */
export function checkDeviceKind(kind: unknown): DeviceKind {
  if (kind === 'camera' || kind === 'microphone' || kind === 'speaker') return kind;
  throw CallEngineError.invalidParameter('kind must be camera, microphone or speaker');
}

/** A boolean. */
export function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw CallEngineError.invalidParameter(`${what} must be a boolean`);
  return value;
}

/** A push registration target (SPEC §9), or -1202 naming the first problem. */
export function checkPushTarget(target: unknown): PushTarget {
  const r = PushTargetSchema.safeParse(target);
  if (!r.success) {
    const i = r.error.issues[0];
    throw CallEngineError.invalidParameter(`push target: ${i ? `${i.path.join('.') || 'target'}: ${i.message}` : 'invalid'}`);
  }
  return r.data;
}
