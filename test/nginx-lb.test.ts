/**
 * The checked-in load balancer config (deploy/nginx/cluster.conf) with real nginx in front of two
 * real server processes: HTTP and the /ws upgrade reach the nodes, both nodes get connections,
 * and when a node dies (SIGKILL) new requests and reconnecting devices go to the one left without
 * an error reaching the user. The nodes are independent single-node servers here: what is shared
 * across nodes is tested in test/cluster/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallEngine } from '@opencall/client';
import { NGINX_CONF, renderNginxConf, startNginx, nginxBinary } from './helpers/nginx.js';
import type { TestNginx } from './helpers/nginx.js';
import { startNodeProcess } from './helpers/processServer.js';
import type { NodeProcess } from './helpers/processServer.js';
import { TEST_APP_ID, TEST_SECRET, sig } from './helpers/server.js';
import { Recorder, sleep } from './helpers/users.js';

describe('renderNginxConf', () => {
  it('writes one server line per node with the parameters of the checked-in first line, and the listen port', () => {
    const out = renderNginxConf(readFileSync(NGINX_CONF, 'utf8'), [4101, 4102], 4200);
    const servers = out.match(/^\s*server 127\.0\.0\.1:\d+ .*;$/gm)?.map((l) => l.trim());
    assert.deepEqual(servers, ['server 127.0.0.1:4101 max_fails=1 fail_timeout=3s;', 'server 127.0.0.1:4102 max_fails=1 fail_timeout=3s;']);
    assert.match(out, /^\s*listen 127\.0\.0\.1:4200;$/m);
    assert.doesNotMatch(out, /:300[123]/);
  });

  it('refuses a template without the node markers, and an empty node list', () => {
    assert.throws(() => renderNginxConf('http { listen 1; }', [1], 2), /BEGIN nodes/);
    assert.throws(() => renderNginxConf(readFileSync(NGINX_CONF, 'utf8'), [], 2), /at least one/);
  });
});

const haveNginx = nginxBinary() !== null;
if (!haveNginx && process.env.CI === 'true') throw new Error('nginx is required in CI (apt-get install nginx-light)');
if (!haveNginx) console.warn('\n*** nginx not installed: skipping the load balancer tests ***\n');

describe('nginx in front of two nodes', { skip: !haveNginx && 'nginx not installed' }, () => {
  const dirs: string[] = [];
  const nodes: NodeProcess[] = [];
  const engines: CallEngine[] = [];
  let lb: TestNginx;
  before(async () => {
    for (const name of ['lb1', 'lb2']) {
      const dir = mkdtempSync(join(tmpdir(), 'opencall-lb-'));
      dirs.push(dir);
      nodes.push(await startNodeProcess({
        name,
        options: {
          storage: join(dir, 'opencall.db'), secretKey: TEST_SECRET, sdkAppId: TEST_APP_ID, sfu: 'none',
          logLevel: 'warn', heartbeatTimeoutMs: 1500, webApp: false,
        },
      }));
    }
    lb = await startNginx(nodes.map((n) => n.port));
  });
  after(async () => {
    await Promise.all(engines.map((e) => e.unInit().catch(() => undefined)));
    await lb?.stop();
    await Promise.all(nodes.map((n) => n.kill()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function signIn(userId: string): Promise<{ engine: CallEngine; rec: Recorder }> {
    const engine = new CallEngine({
      serverUrl: lb.url, sdkAppId: TEST_APP_ID, reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 200,
      logger: { warn: () => undefined },
    });
    engines.push(engine);
    const rec = new Recorder();
    engine.addObserver(rec.observer);
    await engine.init(userId, sig(userId));
    return { engine, rec };
  }

  it('HTTP and WebSocket sign-ins are spread over both nodes', async () => {
    const h = await fetch(`${lb.url}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(((await h.json()) as { ok: boolean }).ok, true);
    for (let i = 0; i < 4; i++) await signIn(`lb_u${i}`);
    const counts = await Promise.all(nodes.map(async (n) => (await n.healthz()).connections));
    assert.deepEqual(counts, [2, 2], 'round robin: two devices on each node');
  });

  it('a node dies: HTTP goes on through the other, and its devices reconnect through nginx', async () => {
    const [dying, left] = nodes as [NodeProcess, NodeProcess];
    const before = (await left.healthz()).connections;
    const onDying = (await dying.healthz()).connections;
    assert.ok(onDying > 0);
    await dying.kill();
    // Every request answers, whichever node nginx tries first (proxy_next_upstream).
    for (let i = 0; i < 6; i++) assert.equal((await fetch(`${lb.url}/healthz`)).status, 200);
    for (let i = 0; i < 100 && (await left.healthz()).connections < before + onDying; i++) await sleep(50);
    assert.equal((await left.healthz()).connections, before + onDying, 'every device is back, on the node left');
    for (const e of engines) assert.equal(e.isInitialized, true);
    // A new sign-in through nginx works at once.
    await signIn('lb_late');
  });
});
