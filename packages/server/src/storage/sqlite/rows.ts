/**
 * Row shapes, bound-parameter shapes and small mappings of the SQLite adapter: database rows to
 * interface values, and the busy index's refusal to BusyConflictError.
 */
import Database from 'better-sqlite3';
import type { WebhookCommand } from '../../call/types.js';
import { BusyConflictError, type OutboxRow } from '../Storage.js';

/** Row of `webhook_outbox` as SQLite returns it. */
export interface OutboxDbRow {
  id: number;
  event_id: string;
  call_id: string;
  seq: number;
  command: string;
  body: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
  dead: number;
}

/** Named parameters of the calls row, shared by INSERT and UPDATE. */
export interface CallRowParams {
  callId: string;
  version: number;
  phase: string;
  scene: string;
  createdAt: number;
  endedAt: number | null;
  callResult: string | null;
  /** 1 for an ephemeral call (fixed at the insert: a call never changes this). */
  ephemeral: number;
  state: string;
}

/** Named parameters of the ended-calls filter (null = not filtered). */
export interface EndedParams {
  startTime: number;
  endTime: number;
  callResult: string | null;
  sceneA: string | null;
  sceneB: string | null;
}

/** Named parameters of the records query (null = not filtered). */
export interface RecordsParams {
  userId: string;
  begin: number | null;
  end: number | null;
  result: string | null;
  limit: number;
  offset: number;
}

/** Same filter for the page and its count, so `total` always describes the paged rows. */
export const ENDED_WHERE = `phase = 'ended' AND ephemeral = 0 AND created_at BETWEEN @startTime AND @endTime
  AND (@callResult IS NULL OR call_result = @callResult)
  AND (@sceneA IS NULL OR scene = @sceneA OR scene = @sceneB)`;

/** Rows still waiting for delivery; spelled like the partial indexes' WHERE so they are used. */
export const UNDELIVERED = 'delivered_at IS NULL AND dead = 0';

/** Converts a database row to the interface shape. */
export function toOutboxRow(r: OutboxDbRow): OutboxRow {
  return {
    id: r.id,
    eventId: r.event_id,
    callId: r.call_id,
    seq: r.seq,
    // Only this adapter writes the column, always from a WebhookCommand.
    command: r.command as WebhookCommand,
    body: r.body,
    createdAt: r.created_at,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
    dead: r.dead !== 0,
  };
}

/** Parses a JSON column this adapter wrote from a value of type T. */
export function parse<T>(json: string): T {
  return JSON.parse(json) as T;
}

/** True when `e` is the v3 index refusing a user's second busy leg. */
export function isBusyViolation(e: unknown): boolean {
  return (
    e instanceof Database.SqliteError &&
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    // The (user_id, call_id) primary key reports both columns; the busy index only user_id.
    e.message.endsWith('memberships.user_id')
  );
}

/** Runs one membership write of `userId`, mapping the busy index's refusal to BusyConflictError. */
export function asUser(userId: string, write: () => void): void {
  try {
    write();
  } catch (e) {
    throw isBusyViolation(e) ? new BusyConflictError(userId) : e;
  }
}

/** By user id: every adapter takes user rows in one order (see the Postgres adapter for why). */
export function byUser(a: { userId: string }, b: { userId: string }): number {
  return a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0;
}
