/**
 * Production configuration through the real `opencall-server` command (issue #18): `init` writes a
 * 0600 config with fresh secrets and the server starts from it and signs users in; secrets come
 * from files; file < environment < flags; an unknown key or a malformed file is refused naming the
 * key or the line; the systemd unit passes `systemd-analyze verify`.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CallEngine } from '@opencall/client';
import { genUserSig } from '@opencall/server';
import { runInit } from '../packages/server/src/cli/init.js';
import { cliOptions } from '../packages/server/src/config/cli.js';
import { parseOptions } from '../packages/server/src/config/schema.js';
import { findOnPath } from '../packages/server/src/media/ports.js';
import { runCli, startCli } from './helpers/cliServer.js';
import type { CliServer } from './helpers/cliServer.js';

const dir = mkdtempSync(join(tmpdir(), 'opencall-deploy-config-'));
const running: CliServer[] = [];
const engines: CallEngine[] = [];
after(async () => {
  await Promise.all(engines.map((e) => e.unInit().catch(() => undefined)));
  await Promise.all(running.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the CLI and remembers it for cleanup. */
async function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliServer> {
  const s = await startCli(args, env);
  running.push(s);
  return s;
}

/** Signs `userId` in with a sig made with `secretKey`; resolves, or rejects with the server's refusal. */
async function signIn(server: CliServer, userId: string, secretKey: string): Promise<void> {
  const engine = new CallEngine({ serverUrl: server.url, sdkAppId: 1400000000 });
  engines.push(engine);
  await engine.init(userId, genUserSig({ sdkAppId: 1400000000, secretKey, userId, expireSeconds: 600 }));
}

/** The redacted config the server logged at start-up. */
function loggedConfig(server: CliServer): Record<string, unknown> {
  const line = server.output().split('\n').find((l) => l.includes('"starting OpenCall server"'));
  assert.ok(line, 'the start-up log line');
  return (JSON.parse(line) as { config: Record<string, unknown> }).config;
}

describe('opencall-server init', () => {
  const etc = join(dir, 'etc');
  const storage = join(dir, 'lib', 'opencall.db');

  it('writes a 0600 production config with fresh secrets, and refuses to overwrite it', async () => {
    const r = await runCli(['init', '--dir', etc, '--storage', storage, '--public-url', 'https://call.example.com']);
    assert.equal(r.code, 0, r.stderr);
    const file = join(etc, 'opencall.yaml');
    assert.match(r.stdout, new RegExp(`wrote ${file}`));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const c = parse(readFileSync(file, 'utf8')) as { secretKey: string; webhookSecret: string; turn: { secret: string; urls: string[] }; storage: string; publicUrl: string; trustProxy: string[] };
    assert.equal(c.storage, storage);
    assert.equal(c.publicUrl, 'https://call.example.com');
    assert.deepEqual(c.trustProxy, ['127.0.0.1', '::1']);
    assert.ok(c.turn.urls.every((u) => u.startsWith('turn:call.example.com:3478')));
    const secrets = [c.secretKey, c.webhookSecret, c.turn.secret];
    for (const s of secrets) assert.match(s, /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
    assert.equal(new Set(secrets).size, 3, 'three different secrets');

    const again = await runCli(['init', '--dir', etc]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists.*--force/);
    assert.equal((parse(readFileSync(file, 'utf8')) as { secretKey: string }).secretKey, c.secretKey, 'untouched');

    // Fresh on every init (in-process: the command itself was run above).
    const other = runInit(['--dir', join(dir, 'etc2')], () => undefined);
    assert.notEqual((parse(readFileSync(other, 'utf8')) as { secretKey: string }).secretKey, c.secretKey, 'fresh on every init');
  });

  it('the server starts from the generated config, out of development mode, and signs users in with its key', async () => {
    const file = join(etc, 'opencall.yaml');
    const { secretKey } = parse(readFileSync(file, 'utf8')) as { secretKey: string };
    // sfu: the generated 'auto' would start Janus; not what this test is about.
    const server = await start(['--config', file, '--sfu', 'none']);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { devMode: boolean; storage: string };
    assert.equal(health.devMode, false);
    assert.equal((await fetch(`${server.url}/dev/usersig`, { method: 'POST' })).status, 404, 'no dev endpoint');
    await signIn(server, 'alice', secretKey);
    await assert.rejects(signIn(server, 'bob', 'another-key'), (e: { code: number }) => e.code === 70003);
    const config = loggedConfig(server);
    assert.equal(config['publicUrl'], 'https://call.example.com');
    assert.equal(config['storage'], storage);
    assert.ok(!server.output().includes(secretKey), 'the secret key is never logged');
    const stopped = await server.stop();
    assert.equal(stopped.code, 0);
    running.splice(running.indexOf(server), 1);
  });
});

describe('secrets from files, and which setting wins', () => {
  it('--secret-key-file, OPENCALL_*_FILE and secretKeyFile in a config file; file < env < flags', async () => {
    const keyFile = join(dir, 'secret-key');
    writeFileSync(keyFile, 'key-from-a-file\n', { mode: 0o600 });
    const hookFile = join(dir, 'webhook-secret');
    writeFileSync(hookFile, 'hook-secret-from-a-file\n', { mode: 0o600 });
    const turnFile = join(dir, 'turn-secret');
    writeFileSync(turnFile, 'turn-secret-from-a-file\n', { mode: 0o600 });
    const cfg = join(dir, 'layers.yaml');
    writeFileSync(cfg, `storage: ':memory:'\nsfu: none\nheartbeatTimeoutMs: 1000\nmaxParticipants: 4\ndefaultRingTimeoutSeconds: 7\nturn:\n  urls: turn:turn.example.com:3478\nturnSecretFile: ${turnFile}\n`);
    const server = await start(['--config', cfg, '--secret-key-file', keyFile, '--max-participants', '6'], {
      OPENCALL_WEBHOOK_SECRET_FILE: hookFile,
      OPENCALL_HEARTBEAT_TIMEOUT_MS: '2000',
      OPENCALL_MAX_PARTICIPANTS: '5',
    });
    await signIn(server, 'carol', 'key-from-a-file');
    const config = loggedConfig(server);
    assert.equal(config['devMode'], false);
    assert.equal(config['defaultRingTimeoutSeconds'], 7, 'from the file');
    assert.equal(config['heartbeatTimeoutMs'], 2000, 'the environment overrides the file');
    assert.equal(config['maxParticipants'], 6, 'a flag overrides both');
    assert.deepEqual(config['turn'], { urls: 'turn:turn.example.com:3478', secret: '[redacted]', ttlSeconds: 86400 });
    for (const s of ['key-from-a-file', 'hook-secret-from-a-file', 'turn-secret-from-a-file']) {
      assert.ok(!server.output().includes(s), `${s} never logged`);
      assert.ok(!readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').includes(s), `${s} not in ps`);
    }
  });

  it('a missing or empty secret file is a clear start-up error', async () => {
    const r = await runCli(['--storage', ':memory:', '--secret-key-file', join(dir, 'nope')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--secret-key-file: cannot read .*nope \(ENOENT\)/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    assert.throws(() => cliOptions([], { OPENCALL_SECRET_KEY_FILE: empty }), /OPENCALL_SECRET_KEY_FILE: .*empty is empty/);
  });
});

describe('a bad config file is refused before anything starts', () => {
  // Through the real command: exit code 1, the message on stderr, nothing started.
  const cli: [string, string, RegExp][] = [
    ['unknown.yaml', 'port: 0\nlogLevel: info\nwebhookURL: https://x.example.com\n', /unknown\.yaml: unknown option 'webhookURL'/],
    ['indent.yaml', 'port: 0\nlimits:\n  maxMessageBytes: 4096\n requestsPerSecondPerIp: 5\n', /indent\.yaml line 4, column \d+: /],
  ];
  for (const [name, text, error] of cli) {
    it(`${name}: ${String(error)}`, async () => {
      const file = join(dir, name);
      writeFileSync(file, text);
      const r = await runCli(['--config', file, '--storage', ':memory:']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, error);
      assert.doesNotMatch(r.stdout, /listening/i, 'never started');
    });
  }
  // The same reading code, in-process (each CLI start costs seconds on a busy machine).
  const inProcess: [string, string, RegExp][] = [
    ['nested.yaml', 'limits:\n  maxMessagesBytes: 3\n', /unknown option 'limits\.maxMessagesBytes'/],
    ['broken.json', '{\n  "port": 0,\n  "host" "127.0.0.1"\n}\n', /broken\.json line 3, column \d+: /],
    ['duplicate.yaml', 'port: 0\nport: 1\n', /duplicate\.yaml line 2, column 1: Map keys must be unique/],
  ];
  for (const [name, text, error] of inProcess) {
    it(`${name}: ${String(error)}`, () => {
      const file = join(dir, name);
      writeFileSync(file, text);
      assert.throws(() => cliOptions(['--config', file], {}), error);
    });
  }
  it('a value the options schema refuses is named too', () => {
    const file = join(dir, 'invalid.yaml');
    writeFileSync(file, 'port: 0\ndevicePolicy: sometimes\n');
    assert.throws(() => parseOptions(cliOptions(['--config', file], {})), /devicePolicy/);
  });
});

describe('deploy/systemd/opencall.service', () => {
  const unit = fileURLToPath(new URL('../deploy/systemd/opencall.service', import.meta.url));
  const analyze = findOnPath('systemd-analyze');
  it('passes systemd-analyze verify', { skip: analyze ? false : 'systemd-analyze is not installed: the unit was not verified' }, () => {
    // Throws with systemd's complaints on stderr when the unit is invalid.
    const out = execFileSync(analyze!, ['verify', unit], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out.trim(), '');
  });
  it('runs as a dedicated user, read-only system, state directory, restart on failure, sized file limit, drains on SIGTERM', () => {
    const text = readFileSync(unit, 'utf8');
    for (const line of ['DynamicUser=yes', 'ProtectSystem=strict', 'StateDirectory=opencall', 'Restart=on-failure', 'LimitNOFILE=65536', 'KillSignal=SIGTERM', 'NoNewPrivileges=yes']) {
      assert.ok(text.split('\n').includes(line), line);
    }
    // Longer than the server's own bound (shutdownTimeoutMs 10 s + 5 s), so systemd never SIGKILLs a drain.
    assert.ok(Number(/^TimeoutStopSec=(\d+)$/m.exec(text)?.[1]) > 15);
  });
});
