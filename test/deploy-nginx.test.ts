/**
 * End to end through real nginx running deploy/nginx/opencall.conf (issue #18): the page and REST
 * over https, a whole call between two engines over wss, the URLs the server hands out, and
 * `trustProxy`: per-client rate limits and log addresses behind the trusted proxy, while the same
 * X-Forwarded-For from an untrusted peer (or a client through nginx) is ignored.
 *
 * Client addresses: Linux answers on all of 127.0.0.0/8, so clients bind 127.0.0.2, .3, … and nginx
 * (the trusted proxy, 127.0.0.1) sees each as a different client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import WebSocket from 'ws';
import { CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { adminQuery } from './fixtures/durabilityClients.js';
import { nginxBinary } from './helpers/nginx.js';
import { startTlsNginx } from './helpers/nginxTls.js';
import type { TlsNginx } from './helpers/nginxTls.js';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { Recorder } from './helpers/users.js';

const nginxPath = nginxBinary();
if (!nginxPath && process.env.CI === 'true') throw new Error('nginx is required in CI but not installed (apt-get install nginx-light)');
const skip = nginxPath ? false : 'SKIPPED: nginx is not installed (apt-get install nginx-light; CI=true makes this a failure)';
if (skip) console.warn(`\n*** ${skip} ***\n`);

const RATE = 2; // requests per second per client: a burst of 4
const BY_FILTER = '/v4/call_record_http_srv/get_record_by_filter';
const BY_ID = '/v4/call_record_http_srv/get_record_by_callid';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request over http(s), optionally from a given local address, trusting `ca`. */
function send(url: string, o: { method?: string; body?: unknown; from?: string; headers?: Record<string, string>; ca?: string } = {}): Promise<Answer> {
  const u = new URL(url);
  const body = o.body === undefined ? undefined : JSON.stringify(o.body);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: o.method ?? (body ? 'POST' : 'GET'),
        agent: false,
        ...(o.ca ? { ca: o.ca } : {}),
        ...(o.from ? { localAddress: o.from } : {}),
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...o.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('behind nginx (deploy/nginx/opencall.conf)', { skip }, () => {
  let server: RunningServer;
  let proxy: TlsNginx;
  const logLines: Record<string, unknown>[] = [];
  const engines: CallEngine[] = [];

  before(async () => {
    server = await startTestServer({
      trustProxy: ['127.0.0.1'],
      limits: { requestsPerSecondPerIp: RATE },
      webApp: true,
      logLevel: 'info',
      logStream: { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    proxy = await startTlsNginx(nginxPath!, server.port);
  });
  after(async () => {
    await Promise.all(engines.map((e) => e.unInit().catch(() => undefined)));
    await proxy?.stop();
    await server?.close();
  });

  /** Through nginx over https. */
  const viaProxy = (path: string, o: Parameters<typeof send>[1] = {}): Promise<Answer> => send(`${proxy.httpsUrl}${path}`, { ca: proxy.ca, ...o });
  /** The `remoteAddress` the server logged for requests whose query has `random=<marker>`. */
  const loggedAddresses = (marker: string): unknown[] =>
    logLines
      .filter((l) => l['msg'] === 'incoming request' && (l['req'] as { url?: string } | undefined)?.url?.includes(`random=${marker}&`))
      .map((l) => (l['req'] as { remoteAddress?: unknown }).remoteAddress);

  it('serves the page over https, and redirects http to https', async () => {
    const page = await viaProxy('/', { from: '127.0.0.9' });
    assert.equal(page.status, 200, proxy.errors());
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.body, /<html/i);
    assert.match(String(page.headers['strict-transport-security']), /max-age=/);
    const plain = await send(`${proxy.httpUrl}/some/path?q=1`);
    assert.equal(plain.status, 301);
    assert.equal(plain.headers['location'], 'https://127.0.0.1/some/path?q=1');
  });

  it('hands out https URLs through the proxy (X-Forwarded-Proto believed), plain ones directly', async () => {
    const viaNginx = JSON.parse((await viaProxy('/openapi.json', { from: '127.0.0.9' })).body) as { servers: { url: string }[] };
    assert.deepEqual(viaNginx.servers, [{ url: proxy.httpsUrl }]);
    const config = JSON.parse((await viaProxy('/config.json', { from: '127.0.0.9' })).body) as { publicUrl: string };
    assert.equal(config.publicUrl, proxy.httpsUrl);
    // The same headers from a peer that is not the proxy are not believed.
    const direct = JSON.parse((await send(`${server.url}/openapi.json`, { from: '127.0.0.9', headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example.com' } })).body) as { servers: { url: string }[] };
    assert.deepEqual(direct.servers, [{ url: server.url }]);
  });

  it('a whole call between two engines over wss, then its record over REST, all through nginx', async () => {
    // The test's self-signed certificate: a `ws` WebSocket that trusts it (a browser or a real
    // certificate needs nothing).
    const ca = proxy.ca;
    class TrustingWebSocket extends WebSocket {
      constructor(url: string) {
        super(url, { ca });
      }
    }
    const make = async (id: string): Promise<{ engine: CallEngine; rec: Recorder }> => {
      const engine = new CallEngine({ serverUrl: proxy.httpsUrl, sdkAppId: TEST_APP_ID, WebSocket: TrustingWebSocket });
      engines.push(engine);
      const rec = new Recorder();
      engine.addObserver(rec.observer);
      await engine.init(id, sig(id));
      return { engine, rec };
    };
    const alice = await make('alice');
    const bob = await make('bob');
    const { callId } = await alice.engine.call('bob', CallMediaType.video);
    await bob.rec.waitFor('onCallReceived');
    await bob.engine.accept();
    await alice.rec.waitFor('onCallBegin');
    await bob.rec.waitFor('onCallBegin');
    await alice.engine.hangup();
    await bob.rec.waitFor('onCallEnd');
    await alice.rec.waitFor('onCallEnd');
    const calling = (rec: Recorder): string[] => rec.names().filter((n) => ['onCallReceived', 'onCallBegin', 'onCallEnd', 'onCallNotConnected', 'onError'].includes(n));
    assert.deepEqual(calling(alice.rec), ['onCallBegin', 'onCallEnd'], alice.rec.lines().join(' '));
    assert.deepEqual(calling(bob.rec), ['onCallReceived', 'onCallBegin', 'onCallEnd'], bob.rec.lines().join(' '));

    const r = await viaProxy(`${BY_ID}?${adminQuery()}`, { body: { CallId: callId }, from: '127.0.0.8' });
    const env = JSON.parse(r.body) as { ActionStatus: string; Response: { CallRecord: { CallId: string; CallResult: string; MediaType: string } } };
    assert.equal(env.ActionStatus, 'OK', r.body);
    assert.equal(env.Response.CallRecord.CallId, callId);
    assert.match(env.Response.CallRecord.MediaType, /Video/);
  });

  it('the per-IP limit applies per client behind the trusted proxy; the log names each client', async () => {
    const path = `${BY_FILTER}?${adminQuery({ random: '76' })}`;
    // Client A bursts past its budget (4) at once…
    const a = await Promise.all(Array.from({ length: 16 }, () => viaProxy(path, { body: {}, from: '127.0.0.2' })));
    const aStatus = a.map((r) => r.status);
    assert.ok(aStatus.includes(429), `A is throttled: ${aStatus.join(',')}`);
    assert.ok(aStatus.filter((s) => s === 200).length >= RATE * 2, `A had its own burst: ${aStatus.join(',')}`);
    // …and client B, through the same proxy, still has all of its own.
    const b = await Promise.all(Array.from({ length: 3 }, () => viaProxy(path, { body: {}, from: '127.0.0.3' })));
    assert.deepEqual(b.map((r) => r.status), [200, 200, 200]);
    const addresses = new Set(loggedAddresses('76'));
    assert.ok(addresses.has('127.0.0.2') && addresses.has('127.0.0.3'), `logged ${[...addresses].join(',')}`);
    assert.ok(!addresses.has('127.0.0.1'), 'never the proxy');
  });

  it('an X-Forwarded-For a client sends through nginx is replaced, not believed', async () => {
    const path = `${BY_FILTER}?${adminQuery({ random: '77' })}`;
    // Each request claims another address; they all come from 127.0.0.4 and share its budget.
    const r = await Promise.all(Array.from({ length: 16 }, (_, i) => viaProxy(path, { body: {}, from: '127.0.0.4', headers: { 'x-forwarded-for': `10.0.0.${i + 1}` } })));
    assert.ok(r.some((x) => x.status === 429), `one budget: ${r.map((x) => x.status).join(',')}`);
    assert.deepEqual([...new Set(loggedAddresses('77'))], ['127.0.0.4']);
  });

  it('the same X-Forwarded-For from an untrusted peer is ignored: one budget, its own address logged', async () => {
    const path = `${BY_FILTER}?${adminQuery({ random: '78' })}`;
    const r = await Promise.all(Array.from({ length: 16 }, (_, i) => send(`${server.url}${path}`, { body: {}, from: '127.0.0.5', headers: { 'x-forwarded-for': `10.0.1.${i + 1}` } })));
    assert.ok(r.some((x) => x.status === 429), `one budget: ${r.map((x) => x.status).join(',')}`);
    assert.deepEqual([...new Set(loggedAddresses('78'))], ['127.0.0.5']);
  });
});
