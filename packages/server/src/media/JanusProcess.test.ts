import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import WebSocket from 'ws';
import { requireProgram } from '../../../../test/helpers/janus.js';
import { janusAnswers, JanusProcess } from './JanusProcess.js';
import { releaseUdpRange, reserveUdpRange } from './ports.js';

const hasJanus = requireProgram('janus');
const skip = hasJanus ? false : 'janus not installed — install with apt-get install janus';

test('JanusProcess.available() reflects PATH', () => {
  assert.equal(JanusProcess.available(), hasJanus);
  assert.equal(JanusProcess.available('definitely-not-a-janus-binary'), false);
});

test('reserveUdpRange never hands out overlapping ranges in one process', async () => {
  const a = await reserveUdpRange(50);
  const b = await reserveUdpRange(50);
  try {
    assert.equal(a.max - a.min, 49);
    assert.ok(a.max < b.min || b.max < a.min, `${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`);
  } finally {
    releaseUdpRange(a);
    releaseUdpRange(b);
  }
});

test('starts a loopback Janus, restarts it after SIGKILL, stops it by PID', { skip, timeout: 20_000 }, async () => {
  const janus = new JanusProcess({ rtpPortCount: 100, debugLevel: 3 });
  try {
    const ep = await janus.start();
    assert.match(ep.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(await janusAnswers(ep.url));
    const dir = janus.logFile!.replace(/\/janus\.log$/, '');
    assert.ok(existsSync(`${dir}/janus.jcfg`));
    console.log(`janus start: ${ep.startMs} ms`);

    const exited = new Promise((r) => janus.once('exit', r));
    const restarted = new Promise<{ url: string; pid: number; startMs: number }>((r) => janus.once('restarted', r));
    const t0 = Date.now();
    process.kill(ep.pid, 'SIGKILL');
    assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });
    const again = await restarted;
    console.log(`janus restart after SIGKILL: ${Date.now() - t0} ms (start ${again.startMs} ms)`);
    assert.notEqual(again.pid, ep.pid);
    assert.equal(again.url, ep.url, 'same ports are reused when free');
    assert.ok(await janusAnswers(again.url));

    const t1 = Date.now();
    await janus.stop();
    console.log(`janus stop: ${Date.now() - t1} ms`);
    assert.throws(() => process.kill(again.pid, 0), /ESRCH/);
    assert.equal(await janusAnswers(again.url, 300), false);
    assert.equal(existsSync(dir), false, 'temp config folder removed');
  } finally {
    await janus.stop();
  }
});

test('the loopback Janus refuses API requests without its api_secret', { skip, timeout: 20_000 }, async () => {
  const janus = new JanusProcess({ rtpPortCount: 20, debugLevel: 3 });
  try {
    const ep = await janus.start();
    const ask = (msg: object): Promise<{ janus: string; error?: { code: number } }> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(ep.url, 'janus-protocol');
        ws.on('error', reject);
        ws.on('open', () => ws.send(JSON.stringify({ transaction: 't', ...msg })));
        ws.on('message', (raw) => {
          ws.close();
          resolve(JSON.parse((raw as Buffer).toString('utf8')) as { janus: string; error?: { code: number } });
        });
      });
    // Another local process that finds the port: it cannot open a session (403 unauthorized).
    const stranger = await ask({ janus: 'create' });
    assert.equal(stranger.janus, 'error');
    assert.equal(stranger.error?.code, 403);
    const wrong = await ask({ janus: 'create', apisecret: 'guess' });
    assert.equal(wrong.error?.code, 403);
    assert.equal((await ask({ janus: 'create', apisecret: janus.apiSecret })).janus, 'success');
  } finally {
    await janus.stop();
  }
});
