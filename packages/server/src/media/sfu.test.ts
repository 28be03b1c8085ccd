import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { requireProgram } from '../../../../test/helpers/janus.js';
import { freeTcpPort } from './ports.js';
import { startSfu } from './sfu.js';

const skip = requireProgram('janus') ? false : 'janus not installed — install with apt-get install janus';

test("sfu 'none' is mesh; an unreachable { janusUrl } is a start-up error", async () => {
  assert.equal(await startSfu('none'), null);
  const port = await freeTcpPort();
  await assert.rejects(startSfu({ janusUrl: `ws://127.0.0.1:${port}` }));
});

test("sfu 'auto': own Janus; the driver reconnects after Janus is killed and restarted", { skip, timeout: 15_000 }, async () => {
  const running = await startSfu('auto', { process: { rtpPortCount: 50, debugLevel: 3 } });
  assert.ok(running?.janus);
  try {
    const { sfu, janus } = running;
    await sfu.createRoom('call-a');
    const disconnected = once(sfu, 'disconnected');
    const connected = once(sfu, 'connected');
    const t0 = performance.now();
    process.kill(janus.pid!, 'SIGKILL');
    const [lost] = (await disconnected) as [{ callIds: string[] }];
    assert.deepEqual(lost.callIds, ['call-a']);
    assert.equal(sfu.connected, false);
    await assert.rejects(sfu.createRoom('call-b'), /not connected/);
    await connected;
    console.log(`janus SIGKILL → driver connected again: ${Math.round(performance.now() - t0)} ms`);
    assert.equal(sfu.connected, true);
    assert.ok((await sfu.createRoom('call-b')) > 0, 'rooms can be created on the restarted janus');
    assert.equal(sfu.roomId('call-a'), undefined, 'rooms of the dead janus are forgotten');
  } finally {
    const pid = running.janus.pid;
    await running.close();
    if (pid) assert.throws(() => process.kill(pid, 0), /ESRCH/);
  }
});
