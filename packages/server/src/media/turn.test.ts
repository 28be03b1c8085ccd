import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iceServersFor, turnCredentials } from './turn.js';

// Expected value computed outside Node: printf '1700086400:alice' | openssl dgst -sha1 -hmac north -binary | base64
test('turnCredentials: coturn use-auth-secret username and HMAC-SHA1 credential', () => {
  const now = 1_700_000_000_000; // ms
  const c = turnCredentials({ urls: 'turn:127.0.0.1:3478?transport=udp', secret: 'north', ttlSeconds: 86_400 }, 'alice', now);
  assert.deepEqual(c, {
    urls: 'turn:127.0.0.1:3478?transport=udp',
    username: '1700086400:alice',
    credential: 'SXua5ne/+mDhiHTp0pQJzRO4ESg=',
  });
});

test('turnCredentials: expiry counts from now in whole seconds; url lists are copied', () => {
  const urls = ['turn:a:3478', 'turn:b:3478?transport=tcp'];
  const c = turnCredentials({ urls, secret: 's', ttlSeconds: 60 }, 'bob', 1_000_999);
  assert.equal(c.username, '1060:bob');
  assert.deepEqual(c.urls, urls);
  assert.notEqual(c.urls, urls);
});

test('iceServersFor: [] without TURN, one TURN entry with it', () => {
  assert.deepEqual(iceServersFor(undefined, 'alice'), []);
  const list = iceServersFor({ urls: 'turn:x', secret: 'north', ttlSeconds: 86_400 }, 'alice', 1_700_000_000_000);
  assert.equal(list.length, 1);
  assert.equal(list[0]?.credential, 'SXua5ne/+mDhiHTp0pQJzRO4ESg=');
});
