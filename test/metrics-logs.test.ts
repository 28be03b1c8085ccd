/**
 * Server logs: structured pino JSON lines that name calls by id, and never a secret. A server at
 * `trace` level (everything logged) with its log captured through `logStream` runs real calls,
 * REST calls with the admin UserSig in the query, refused sign-ins, a failing webhook and the
 * development UserSig endpoint; no UserSig, secret key or webhook secret may appear anywhere.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { TEST_APP_ID, TEST_SECRET, sig, startTestServer } from './helpers/server.js';
import { cleanup, user } from './helpers/users.js';
import { HOOK_SECRET, HookRecorder } from './webhooks-support.js';

/** One parsed log line. */
type Line = Record<string, unknown> & { level: number; time: number; msg: string };

/** Starts a server whose every log line is kept. */
async function loggedServer(options: Parameters<typeof startTestServer>[0]): Promise<{ server: RunningServer; raw: string[]; lines: () => Line[] }> {
  const raw: string[] = [];
  const server = await startTestServer({ logLevel: 'trace', logStream: { write: (l: string) => void raw.push(l) }, ...options });
  return { server, raw, lines: () => raw.map((l) => JSON.parse(l) as Line) };
}

/** Asserts that none of `secrets` occurs in any captured line, naming the first leak. */
function assertNoLeak(raw: string[], secrets: Record<string, string>): void {
  for (const [what, secret] of Object.entries(secrets)) {
    const leak = raw.find((l) => l.includes(secret));
    assert.equal(leak, undefined, `${what} leaked into the log: ${leak?.slice(0, 300)}`);
  }
}

describe('structured logs without secrets', () => {
  it('a call, REST, refused sign-ins and a failing webhook log call ids and no UserSig, secretKey or webhookSecret', async (t) => {
    const hooks = await HookRecorder.start();
    t.after(() => hooks.close());
    hooks.reply = (_h, i) => (i === 0 ? 500 : 200);
    const { server, raw, lines } = await loggedServer({
      // A token in the webhook URL's query is a secret too.
      webhookUrl: `${hooks.url}?token=tok_in_the_url_42`,
      webhookSecret: HOOK_SECRET,
      webhookRetry: { initialDelayMs: 20, maxDelayMs: 50, maxAgeMs: 60_000, timeoutMs: 2000 },
    });
    t.after(() => server.close());

    const a = await user(server, 'log_a');
    const b = await user(server, 'log_b');
    const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await a.engine.hangup();
    await hooks.waitAcked(callId, 5);
    // REST with the admin sig in the query, as Tencent's API wants it.
    const adminSig = sig('administrator');
    const res = await fetch(`${server.url}/v4/call_record_http_srv/get_record_by_callid?sdkappid=${TEST_APP_ID}&identifier=administrator&usersig=${adminSig}&random=3&contenttype=json`, {
      method: 'POST',
      body: JSON.stringify({ CallId: callId }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200);
    // A sign-in with another user's (valid) sig is refused; its sig must not be logged either.
    const intruderSig = sig('log_victim');
    await assert.rejects(new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID }).init('log_intruder', intruderSig), { code: 70013 });
    await cleanup(a, b);
    await server.close();

    const all = lines();
    assert.ok(all.length > 10);
    for (const l of all) assert.ok(typeof l.level === 'number' && typeof l.time === 'number' && typeof l.msg === 'string', 'every line is structured');
    const calls = all.filter((l) => l['callId'] === callId);
    assert.deepEqual(calls.filter((l) => l.level >= 30).map((l) => l.msg), ['call started', 'call ended']);
    assert.deepEqual(calls.find((l) => l.msg === 'call ended')!['result'], 'NormalEnd');
    assert.ok(calls.every((l) => l['component'] === 'calls'));
    assert.ok(calls.filter((l) => l.msg === 'call transition').length >= 3, 'one debug line per transition');
    const retry = all.find((l) => l.msg === 'webhook delivery failed; will retry');
    assert.equal(retry?.['eventId'], `${callId}.1`);
    const request = all.find((l) => typeof l['req'] === 'object' && String((l['req'] as { url?: string }).url).includes('get_record_by_callid'));
    assert.match(String((request!['req'] as { url: string }).url), /usersig=\[redacted\]&random=3/, 'the query is logged with the sig masked');
    const config = all.find((l) => l.msg === 'starting OpenCall server')!['config'] as Record<string, unknown>;
    assert.deepEqual([config['secretKey'], config['webhookSecret']], ['[redacted]', '[redacted]']);
    assertNoLeak(raw, {
      'admin UserSig': adminSig,
      'a user UserSig': sig('log_a').slice(0, 40),
      'a refused UserSig': intruderSig.slice(0, 40),
      secretKey: TEST_SECRET,
      webhookSecret: HOOK_SECRET,
      'webhook URL token': 'tok_in_the_url_42',
    });
    assert.equal(config['webhookUrl'], `${hooks.url}?[redacted]`);
  });

  it('development mode: the generated key and the minted UserSigs never reach the log', async (t) => {
    const { server, raw, lines } = await loggedServer({ secretKey: undefined });
    t.after(() => server.close());
    assert.equal(server.config.devMode, true);
    const minted = (await (await fetch(`${server.url}/dev/usersig`, { method: 'POST', body: '{"userId":"log_dev"}', headers: { 'content-type': 'application/json' } })).json()) as { userSig: string };
    const engine = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID });
    await engine.init('log_dev', minted.userSig);
    await engine.unInit();
    await server.close();
    assert.ok(lines().some((l) => l.level === 40 && l.msg.startsWith('DEVELOPMENT MODE')), 'development mode is announced loudly');
    assertNoLeak(raw, { 'generated secretKey': server.config.secretKey, 'minted UserSig': minted.userSig.slice(0, 40) });
  });
});
