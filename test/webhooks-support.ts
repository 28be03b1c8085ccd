/**
 * Shared by the webhook integration tests: a recording receiver built on the example receiver
 * (examples/webhook-receiver.ts), whose answer the test sets per request, and the checks every
 * delivery must pass (query, headers, signature, order, clock).
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { verifyWebhook } from '@opencall/server';
import type { EndCallWebhook, WebhookBody } from '@opencall/server';
import { startWebhookReceiver } from '../examples/webhook-receiver.js';
import type { WebhookReceiver } from '../examples/webhook-receiver.js';
import { TEST_APP_ID, sig } from './helpers/server.js';

/** The `webhookSecret` of the webhook tests. */
export const HOOK_SECRET = 'whsec_opencall_tests';

/** One request the receiver got (only correctly signed ones reach the recorder). */
export interface Hit {
  eventId: string;
  seq: number;
  callId: string;
  command: string;
  /** Query string, `?` included. */
  search: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: WebhookBody;
  /** What the receiver answered; 'hang' when it never did. */
  status: number | 'hang';
  /** ms epoch of arrival. */
  at: number;
}

/** The call a body belongs to. */
function callIdOf(b: WebhookBody): string {
  switch (b.CallbackCommand) {
    case 'Call.CallbackAfterStartCall':
      return b.CallInfo.CallId;
    case 'Call.CallbackAfterMemberChanged':
      return b.CallId;
    case 'Call.CallbackAfterEndCall':
      return b.CallRecord.CallId;
  }
}

/** A real receiver that records every verified request and answers as `reply` says. */
export class HookRecorder {
  readonly hits: Hit[] = [];
  /** Requests refused for a bad signature or body. */
  rejected = 0;
  /** The answer to a request: a status, or 'hang' (never answer). */
  reply: (hit: Hit, index: number) => number | 'hang' = () => 200;

  private constructor(private readonly receiver: WebhookReceiver) {}

  /** Listens on 127.0.0.1:`port` (0: a free one). */
  static async start(port = 0): Promise<HookRecorder> {
    let self: HookRecorder | null = null;
    const receiver = await startWebhookReceiver({
      secret: HOOK_SECRET,
      port,
      onRejected: () => void (self!.rejected += 1),
      onEvent: (e) => {
        const r = self!;
        const hit: Hit = {
          eventId: e.eventId, seq: e.sequence, callId: callIdOf(e.body), command: e.command, search: e.search,
          headers: e.headers, raw: e.rawBody, body: e.body, status: 'hang', at: Date.now(),
        };
        const answer = r.reply(hit, r.hits.length);
        r.hits.push(hit);
        if (answer === 'hang') return new Promise<number>(() => {});
        hit.status = answer;
        return answer;
      },
    });
    self = new HookRecorder(receiver);
    return self;
  }

  /** The `webhookUrl` to configure. */
  get url(): string {
    return this.receiver.url;
  }

  /** The port it listens on. */
  get port(): number {
    return this.receiver.port;
  }

  /** Requests answered with a 2xx, in arrival order, optionally of one call. */
  acked(callId?: string): Hit[] {
    return this.hits.filter((h) => typeof h.status === 'number' && h.status < 300 && (callId === undefined || h.callId === callId));
  }

  /** Waits until `n` events of `callId` were acknowledged; resolves with all acknowledged so far. */
  async waitAcked(callId: string, n: number, timeoutMs = 4000): Promise<Hit[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.acked(callId).length < n) {
      if (Date.now() > deadline) {
        const seen = this.hits.filter((h) => h.callId === callId).map((h) => `${h.seq}:${h.status}`);
        throw new Error(`timed out waiting for ${n} webhooks of ${callId}; got ${seen.join(' ') || 'none'}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.acked(callId);
  }

  /** Stops listening, dropping hung requests. */
  close(): Promise<void> {
    return this.receiver.close();
  }
}

/** `CallRecord` of a call from the admin REST API (what the end-call webhook must carry). */
export async function adminRecord(server: { url: string }, callId: string): Promise<EndCallWebhook['CallRecord']> {
  const q = `sdkappid=${TEST_APP_ID}&identifier=administrator&usersig=${sig('administrator')}&random=7&contenttype=json`;
  const res = await fetch(`${server.url}/v4/call_record_http_srv/get_record_by_callid?${q}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ CallId: callId }),
  });
  const json = (await res.json()) as { ActionStatus: string; Response?: { CallRecord: EndCallWebhook['CallRecord'] } };
  assert.equal(json.ActionStatus, 'OK');
  return json.Response!.CallRecord;
}

/**
 * The checks every acknowledged delivery passes: Tencent query parameters, JSON content type,
 * `X-OpenCall-Event-Id` = `<callId>.<seq>`, a signature `verifyWebhook` accepts (and rejects
 * under another secret or a changed byte), sequences 1..n per call in arrival order, and
 * EventTimes from the test's clock window, never going back within a call.
 */
export function checkDeliveries(acked: Hit[], since: number, sdkAppId: number): void {
  const perCall = new Map<string, Hit[]>();
  for (const h of acked) {
    assert.equal(h.search, `?SdkAppid=${sdkAppId}&CallbackCommand=${h.body.CallbackCommand}&contenttype=json`);
    assert.equal(h.command, h.body.CallbackCommand);
    assert.equal(h.headers['content-type'], 'application/json');
    assert.equal(h.eventId, `${h.callId}.${h.seq}`);
    assert.equal(verifyWebhook(h.raw, h.headers, HOOK_SECRET), true, `${h.eventId} verifies`);
    assert.equal(verifyWebhook(h.raw, h.headers, `${HOOK_SECRET}x`), false);
    assert.equal(verifyWebhook(Buffer.concat([h.raw, Buffer.from(' ')]), h.headers, HOOK_SECRET), false);
    assert.ok(h.body.EventTime >= since && h.body.EventTime <= h.at, `${h.eventId} EventTime in the test window`);
    perCall.set(h.callId, [...(perCall.get(h.callId) ?? []), h]);
  }
  for (const [callId, hits] of perCall) {
    assert.deepEqual(hits.map((h) => h.seq), hits.map((_, i) => i + 1), `${callId}: one delivery per event, in sequence`);
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i]!.body.EventTime >= hits[i - 1]!.body.EventTime);
  }
}
