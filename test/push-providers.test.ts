/**
 * SPEC §9 FCM HTTP v1 and APNs against local servers that check the documented request shapes and
 * verify the JWTs: the FCM service-account assertion (RS256) at the token endpoint, then
 * `messages:send` with the access token; the APNs ES256 provider token over HTTP/2 with push type,
 * topic, priority, expiration and collapse id. Not tried against Google's or Apple's services.
 * Also `push.webhookUrl`: pushes handed to the app's backend, signed like webhooks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { CallMediaType } from '@opencall/client';
import { verifyWebhook } from '@opencall/server';
import type { RunningServer } from '@opencall/server';
import { startTestServer } from './helpers/server.js';
import { cleanup, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';
import { stepsOf, traceUntil } from './push-support.js';

const video = CallMediaType.video;

/** Verifies a compact JWT with `key`; returns header and claims, or throws. */
function verifyJwt(jwt: string, key: KeyObject, alg: 'RS256' | 'ES256'): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>;
  if (header['alg'] !== alg) throw new Error(`alg ${String(header['alg'])}`);
  const ok = verify('sha256', Buffer.from(`${h}.${c}`), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, Buffer.from(s!, 'base64url'));
  if (!ok) throw new Error('JWT signature does not verify');
  return { header, claims: JSON.parse(Buffer.from(c!, 'base64url').toString()) as Record<string, unknown> };
}

const readBody = async (req: AsyncIterable<unknown>): Promise<string> => {
  let s = '';
  for await (const c of req) s += String(c);
  return s;
};

interface FcmMessage {
  token: string;
  data: Record<string, string>;
  android: { priority: string; ttl: string; collapse_key: string };
}

/** A local FCM: OAuth token endpoint + messages:send, checking shapes and the assertion JWT. */
class LocalFcm {
  readonly messages: FcmMessage[] = [];
  readonly problems: string[] = [];
  tokenRequests = 0;
  gone = new Set<string>();
  server: Server;
  url = '';
  constructor(private readonly key: KeyObject) {
    this.server = createServer((req, res) => {
      void readBody(req).then((body) => {
        try {
          if (req.url === '/token') {
            const form = new URLSearchParams(body);
            assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
            const { claims } = verifyJwt(form.get('assertion') ?? '', this.key, 'RS256');
            assert.equal(claims['iss'], 'opencall@proj-1.iam.gserviceaccount.com');
            assert.equal(claims['scope'], 'https://www.googleapis.com/auth/firebase.messaging');
            assert.equal(claims['aud'], `${this.url}/token`);
            assert.ok(Number(claims['exp']) - Number(claims['iat']) === 3600);
            this.tokenRequests += 1;
            return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'ya29.local', expires_in: 3600 }));
          }
          assert.equal(req.url, '/v1/projects/proj-1/messages:send');
          assert.equal(req.method, 'POST');
          assert.equal(req.headers.authorization, 'Bearer ya29.local');
          const { message } = JSON.parse(body) as { message: FcmMessage };
          for (const v of Object.values(message.data)) assert.equal(typeof v, 'string', 'FCM data values are strings');
          if (this.gone.has(message.token)) {
            return void res.writeHead(404).end(JSON.stringify({ error: { status: 'NOT_FOUND', details: [{ errorCode: 'UNREGISTERED' }] } }));
          }
          this.messages.push(message);
          res.writeHead(200).end(JSON.stringify({ name: `projects/proj-1/messages/${this.messages.length}` }));
        } catch (err) {
          this.problems.push(String(err));
          res.writeHead(400).end(String(err));
        }
      });
    });
  }
  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
}

interface ApnsRequest {
  path: string;
  headers: http2.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A local APNs over cleartext HTTP/2, checking headers and the ES256 provider token. */
class LocalApns {
  readonly requests: ApnsRequest[] = [];
  readonly problems: string[] = [];
  gone = new Set<string>();
  server = http2.createServer();
  url = '';
  constructor(private readonly key: KeyObject) {
    this.server.on('stream', (stream, headers) => {
      void readBody(stream.setEncoding('utf8')).then((raw) => {
        try {
          assert.equal(headers[':method'], 'POST');
          const path = String(headers[':path']);
          const token = /^\/3\/device\/([0-9a-f]+)$/.exec(path)?.[1];
          assert.ok(token, `path ${path}`);
          const { header, claims } = verifyJwt(String(headers['authorization']).replace(/^bearer /, ''), this.key, 'ES256');
          assert.equal(header['kid'], 'KEY123');
          assert.equal(claims['iss'], 'TEAM123');
          assert.ok(Math.abs(Number(claims['iat']) - Date.now() / 1000) < 120);
          assert.equal(headers['apns-priority'], '10');
          assert.ok(['voip', 'alert'].includes(String(headers['apns-push-type'])));
          if (this.gone.has(token)) {
            stream.respond({ ':status': 410 });
            return void stream.end(JSON.stringify({ reason: 'Unregistered', timestamp: Date.now() }));
          }
          this.requests.push({ path, headers, body: JSON.parse(raw) as Record<string, unknown> });
          stream.respond({ ':status': 200, 'apns-id': 'x' });
          stream.end();
        } catch (err) {
          this.problems.push(String(err));
          stream.respond({ ':status': 400 });
          stream.end(JSON.stringify({ reason: String(err) }));
        }
      });
    });
  }
  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
}

const waitUntil = async (pred: () => boolean, what: string, ms = 5000): Promise<void> => {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('FCM and APNs providers (SPEC §9)', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let fcm: LocalFcm;
  let apns: LocalApns;
  let server: RunningServer;
  const live: TestUser[] = [];
  const FCM_TOKEN = 'fcm-device-token:abc_123';
  const APNS_ALERT = 'a'.repeat(64);
  const APNS_VOIP = 'b'.repeat(64);
  before(async () => {
    fcm = await new LocalFcm(createPublicKey(rsa.privateKey)).start();
    apns = await new LocalApns(createPublicKey(ec.privateKey)).start();
    server = await startTestServer({
      defaultRingTimeoutSeconds: 30,
      push: {
        fcm: {
          projectId: 'proj-1',
          serviceAccount: {
            client_email: 'opencall@proj-1.iam.gserviceaccount.com',
            private_key: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
            token_uri: `${fcm.url}/token`,
          },
          endpoint: fcm.url,
        },
        apns: { teamId: 'TEAM123', keyId: 'KEY123', privateKey: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), bundleId: 'com.example.app', production: false, endpoint: apns.url },
      },
    });
  });
  after(async () => {
    await cleanup(...live);
    await server.close();
    fcm.server.closeAllConnections();
    fcm.server.close();
    apns.server.close();
  });

  it('invite and withdraw reach FCM (data message, high priority, ttl, collapse key) and APNs (voip and alert, headers, ES256 token)', async () => {
    const alice = await user(server, 'pf_alice');
    const bob = await user(server, 'pf_bob');
    live.push(alice, bob);
    await alice.engine.setSelfInfo('Alice', '');
    await bob.engine.registerPush({ type: 'fcm', token: FCM_TOKEN });
    await bob.engine.registerPush({ type: 'apns', token: APNS_ALERT });
    await bob.engine.registerPush({ type: 'apns', token: APNS_VOIP, voip: true });
    await bob.engine.unInit();
    const { callId } = await alice.engine.calls([bob.id], video);
    await waitUntil(() => fcm.messages.length === 1 && apns.requests.length === 2, 'invite pushes');

    const m = fcm.messages[0]!;
    assert.equal(m.token, FCM_TOKEN);
    assert.equal(m.android.priority, 'high');
    assert.equal(m.android.collapse_key, callId);
    const ttl = Number(/^(\d+)s$/.exec(m.android.ttl)?.[1]);
    assert.ok(ttl >= 28 && ttl <= 30, `ttl ${m.android.ttl}`);
    assert.equal(m.data['type'], 'call.invite');
    assert.equal(m.data['callId'], callId);
    assert.equal(m.data['callerId'], alice.id);
    assert.deepEqual(JSON.parse(m.data['callerProfile']!), { userId: alice.id, nickname: 'Alice', avatar: '' });
    assert.ok(m.data['actionToken'] && m.data['deadline']);

    const voip = apns.requests.find((r) => r.path.endsWith(APNS_VOIP))!;
    const alert = apns.requests.find((r) => r.path.endsWith(APNS_ALERT))!;
    assert.equal(voip.headers['apns-push-type'], 'voip');
    assert.equal(voip.headers['apns-topic'], 'com.example.app.voip');
    assert.equal(voip.body['callId'], callId);
    assert.equal(voip.body['type'], 'call.invite');
    assert.equal(alert.headers['apns-push-type'], 'alert');
    assert.equal(alert.headers['apns-topic'], 'com.example.app');
    assert.deepEqual((alert.body['aps'] as { alert: unknown }).alert, { title: 'Alice', body: 'Incoming video call' });
    for (const r of [voip, alert]) {
      assert.equal(r.headers['apns-collapse-id'], callId);
      const exp = Number(r.headers['apns-expiration']);
      assert.ok(Math.abs(exp - (Date.now() / 1000 + 30)) < 5, `apns-expiration ${exp}`);
    }

    await alice.engine.hangup();
    await waitUntil(() => fcm.messages.length === 2 && apns.requests.length === 4, 'withdraw pushes');
    assert.equal(fcm.messages[1]!.data['type'], 'call.withdraw');
    assert.equal(fcm.messages[1]!.data['reason'], 'canceled');
    const alert2 = apns.requests.slice(2).find((r) => r.path.endsWith(APNS_ALERT))!;
    assert.deepEqual((alert2.body['aps'] as { alert: unknown }).alert, { title: 'Alice', body: 'Missed call from Alice' });
    assert.equal(alert2.headers['apns-collapse-id'], callId, 'the missed call replaces the incoming one');
    assert.equal(fcm.tokenRequests, 1, 'the access token is reused');
    assert.deepEqual([...fcm.problems, ...apns.problems], []);
    const steps = await traceUntil(server.url, callId, (s) => s.filter((x) => x.Step === 'push.sent').length === 6);
    assert.deepEqual(stepsOf(steps, bob.id).filter((s) => s.startsWith('push.sent')).sort(), [
      'push.sent (invite apns 200)',
      'push.sent (invite apns 200)',
      'push.sent (invite fcm 200)',
      'push.sent (withdraw apns 200)',
      'push.sent (withdraw apns 200)',
      'push.sent (withdraw fcm 200)',
    ]);
  });

  it('FCM UNREGISTERED and APNs 410 Unregistered drop those registrations', async () => {
    const alice = await user(server, 'pu_alice');
    const bob = await user(server, 'pu_bob');
    live.push(alice, bob);
    fcm.gone.add('gone-fcm');
    apns.gone.add('c'.repeat(64));
    await bob.engine.registerPush({ type: 'fcm', token: 'gone-fcm' });
    await bob.engine.registerPush({ type: 'apns', token: 'c'.repeat(64) });
    await bob.engine.unInit();
    const { callId } = await alice.engine.calls([bob.id], video);
    const steps = await traceUntil(server.url, callId, (s) => s.filter((x) => x.Step === 'push.gone').length === 2);
    assert.deepEqual(stepsOf(steps, bob.id).filter((s) => s.startsWith('push.gone')).sort(), ['push.gone (invite apns 410)', 'push.gone (invite fcm 404)']);
    await alice.engine.hangup();
    const again = (await alice.engine.calls([bob.id], video)).callId;
    await traceUntil(server.url, again, (s) => s.some((x) => x.Step === 'push.none'));
    await alice.engine.hangup();
  });
});

describe('push.webhookUrl (SPEC §9)', () => {
  it('hands each push to the app backend with every registration, signed like webhooks', async () => {
    const got: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
    const backend = createServer((req, res) => {
      void readBody(req).then((body) => {
        got.push({ body, headers: req.headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/push`;
    const server = await startTestServer({ webhookSecret: 'hook-secret', push: { webhookUrl: url } });
    const alice = await user(server, 'pw_alice');
    const bob = await user(server, 'pw_bob');
    try {
      await bob.engine.registerPush({ type: 'fcm', token: 'tok-1' });
      await bob.engine.unInit();
      const { callId } = await alice.engine.calls([bob.id], video);
      await waitUntil(() => got.length === 1, 'the push webhook');
      const { body, headers } = got[0]!;
      assert.equal(verifyWebhook(body, headers, 'hook-secret'), true);
      assert.equal(verifyWebhook(body, headers, 'other-secret'), false);
      const parsed = JSON.parse(body) as { userId: string; targets: unknown[]; payload: Record<string, unknown>; ttlSeconds: number };
      assert.equal(parsed.userId, bob.id);
      assert.deepEqual(parsed.targets, [{ type: 'fcm', token: 'tok-1' }]);
      assert.equal(parsed.payload['type'], 'call.invite');
      assert.equal(parsed.payload['callId'], callId);
      assert.equal(headers['x-opencall-event-id'], `${callId}.push.invite.${bob.id}`);
      const steps = await traceUntil(server.url, callId, (s) => s.some((x) => x.Step === 'push.sent'));
      assert.deepEqual(stepsOf(steps, bob.id), ['push.queued (invite)', 'push.sent (invite webhook 204)']);
    } finally {
      await cleanup(alice, bob);
      await server.close();
      backend.closeAllConnections();
      backend.close();
    }
  });
});
