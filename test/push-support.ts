/** Shared helpers of the offline-push integration tests. */
import assert from 'node:assert/strict';
import webpush from 'web-push';
import type { RunningServer } from '@opencall/server';
import { restPost } from './fixtures/durabilityClients.js';
import type { SubscriptionJson } from './helpers/pushService.js';
import type { TestUser } from './helpers/users.js';

/** One VAPID pair for the test files. */
export const VAPID = { ...webpush.generateVAPIDKeys(), subject: 'mailto:tests@example.invalid' };

/** One trace step as `get_call_trace` answers it. */
export interface Step {
  UserId: string;
  DeviceId?: string;
  Step: string;
  Time: number;
  Detail?: Record<string, unknown>;
}

/** The call's trace through the REST API. */
export async function trace(url: string, callId: string): Promise<Step[]> {
  const { body } = await restPost(url, '/v4/call_engine_http_srv/get_call_trace', { CallId: callId });
  assert.equal(body.ErrorCode, 0, body.ErrorInfo);
  return (body.Response as { Trace: Step[] }).Trace;
}

/** `user step [detail kind/provider/status]` lines of one user's steps. */
export function stepsOf(steps: Step[], userId: string): string[] {
  return steps
    .filter((s) => s.UserId === userId)
    .map((s) => {
      const d = s.Detail ?? {};
      const extra = [d['kind'], d['provider'], d['status'], d['reason']]
        .filter((x): x is string | number => typeof x === 'string' || typeof x === 'number')
        .join(' ');
      return `${s.Step}${s.DeviceId ? ` @${s.DeviceId}` : ''}${extra ? ` (${extra})` : ''}`;
    });
}

/** Waits until `pred` holds for the call's trace (steps are written after the commit). */
export async function traceUntil(url: string, callId: string, pred: (s: Step[]) => boolean, timeoutMs = 5000): Promise<Step[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await trace(url, callId);
    if (pred(s)) return s;
    if (Date.now() > until) throw new Error(`trace never matched: ${JSON.stringify(s.map((x) => `${x.UserId} ${x.Step}`))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Registers `sub` for the signed-in user `u`, then signs them out (the app is closed). */
export async function registerAndClose(u: TestUser, sub: SubscriptionJson): Promise<void> {
  await u.engine.registerPush({ type: 'webpush', subscription: sub });
  await u.engine.unInit();
}

/** POST /push/action. */
export async function pushAction(server: RunningServer, body: Record<string, unknown>): Promise<{ status: number; body: { ok?: boolean; error?: { code: number; message: string } } }> {
  const r = await fetch(`${server.url}/push/action`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as { ok?: boolean; error?: { code: number; message: string } } };
}
