import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliOptions } from './cli.js';
import { readConfigFile } from './file.js';

const dir = mkdtempSync(join(tmpdir(), 'opencall-config-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('readConfigFile', () => {
  it('reads YAML and JSON into the options they set', () => {
    const yaml = readConfigFile(file('a.yaml', 'port: 3001\nlimits:\n  requestsPerSecondPerIp: 7\nsfu:\n  janusUrl: ws://127.0.0.1:8188\ntrustProxy: [10.0.0.0/8]\n'));
    assert.deepEqual(yaml, { port: 3001, limits: { requestsPerSecondPerIp: 7 }, sfu: { janusUrl: 'ws://127.0.0.1:8188' }, trustProxy: ['10.0.0.0/8'] });
    assert.deepEqual(readConfigFile(file('a.json', '{"port": 3002, "devicePolicy": "multi"}')), { port: 3002, devicePolicy: 'multi' });
    assert.deepEqual(readConfigFile(file('empty.yaml', '# nothing\n')), {});
  });

  it('names every unknown key, nested ones by their path (objects inside unions too)', () => {
    assert.throws(
      () => readConfigFile(file('u.yaml', 'prot: 1\nlimits:\n  maxMessageByte: 1\nsfu:\n  janusURL: x\nturn:\n  urls: a\n  secret: b\n  ttl: 3\n')),
      /unknown options 'prot', 'limits\.maxMessageByte', 'sfu\.janusURL', 'turn\.ttl'/,
    );
  });

  it('replaces secret-file keys by the secrets, keeping sibling keys', () => {
    const secret = file('turn.secret', 's3cret\n');
    assert.deepEqual(readConfigFile(file('s.yaml', `turn:\n  urls: turn:x:3478\nturnSecretFile: ${secret}\n`)), { turn: { urls: 'turn:x:3478', secret: 's3cret' } });
    assert.throws(() => readConfigFile(file('s2.yaml', 'secretKeyFile: 3\n')), /secretKeyFile must be a file path/);
  });
});

describe('cliOptions layering', () => {
  it('file < OPENCALL_* < flags; --config may also come from OPENCALL_CONFIG', () => {
    const cfg = file('l.yaml', 'port: 1\nhost: 0.0.0.0\nlogLevel: warn\n');
    const o = cliOptions(['--config', cfg, '--port', '3'], { OPENCALL_PORT: '2', OPENCALL_HOST: '127.0.0.2' });
    assert.deepEqual([o.port, o.host, o.logLevel], [3, '127.0.0.2', 'warn']);
    assert.equal(cliOptions([], { OPENCALL_CONFIG: cfg }).port, 1);
    assert.equal(cliOptions([`--config=${cfg}`], {}).host, '0.0.0.0');
  });

  it('trustProxy takes a comma-separated list or true', () => {
    assert.deepEqual(cliOptions(['--trust-proxy', '127.0.0.1, 10.0.0.0/8'], {}).trustProxy, ['127.0.0.1', '10.0.0.0/8']);
    assert.equal(cliOptions([], { OPENCALL_TRUST_PROXY: 'true' }).trustProxy, true);
  });
});
