/**
 * Webhook signatures: fixed vectors computed with `openssl dgst -sha256 -hmac`, so the signer is
 * checked against an independent implementation, and a verifier that refuses (never throws on)
 * anything malformed, re-labelled or stale.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signWebhook, verifyWebhook } from './sign.js';

const BODY = '{"CallbackCommand":"Call.CallbackAfterStartCall","EventTime":1700000000000}';
const SECRET = 'whsec_test';
const TS = 1700000000;
const NOW = TS * 1000 + 30_000;
const FIELDS = { timestamp: TS, eventId: 'c_abc.1', sequence: 1 };
/** `printf '%s\n%s\n%s\n%s' 1700000000 c_abc.1 1 "$BODY" | openssl dgst -sha256 -hmac whsec_test -hex` */
const BODY_SIG = 'sha256=9b93a1fbe5b026b1a591607ee550c0a355538a05f323abca339991bb42392a5d';
/** `printf '%s\n%s\n%s\n%s' 1700000000 e 2 'héllo ✓' | openssl dgst -sha256 -hmac k -hex` (UTF-8 bytes) */
const UNICODE_SIG = 'sha256=842d897c04c2a03be91b532527122bf83aa33bb1b2bac702c7a0ae0eba459621';

/** The headers the dispatcher sends for BODY. */
const HEADERS = { 'x-opencall-signature': BODY_SIG, 'x-opencall-timestamp': String(TS), 'x-opencall-event-id': 'c_abc.1', 'x-opencall-sequence': '1' };

describe('signWebhook', () => {
  it('matches openssl for strings and buffers (UTF-8)', () => {
    assert.equal(signWebhook(BODY, SECRET, FIELDS), BODY_SIG);
    assert.equal(signWebhook(Buffer.from(BODY), SECRET, FIELDS), BODY_SIG);
    assert.equal(signWebhook('héllo ✓', 'k', { timestamp: TS, eventId: 'e', sequence: 2 }), UNICODE_SIG);
    assert.equal(signWebhook(Buffer.from('héllo ✓', 'utf8'), 'k', { timestamp: TS, eventId: 'e', sequence: 2 }), UNICODE_SIG);
  });

  it('refuses an empty secret instead of signing with no key, and fields that cannot travel in a header', () => {
    assert.throws(() => signWebhook(BODY, '', FIELDS), TypeError);
    assert.throws(() => signWebhook(BODY, SECRET, { ...FIELDS, eventId: 'a\nb' }), TypeError);
    assert.throws(() => signWebhook(BODY, SECRET, { ...FIELDS, timestamp: 1.5 }), TypeError);
  });
});

describe('verifyWebhook', () => {
  it('accepts the signed delivery whatever the header case or container', () => {
    assert.equal(verifyWebhook(BODY, HEADERS, SECRET, { now: NOW }), true);
    assert.equal(verifyWebhook(Buffer.from(BODY), { ...HEADERS, 'X-OpenCall-Signature': BODY_SIG }, SECRET, { now: NOW }), true);
    const upper = Object.fromEntries(Object.entries(HEADERS).map(([k, v]) => [k.toUpperCase(), [v]]));
    assert.equal(verifyWebhook(BODY, upper, SECRET, { now: NOW }), true);
    assert.equal(verifyWebhook(BODY, new Headers(HEADERS), SECRET, { now: NOW }), true);
    assert.equal(verifyWebhook(BODY, new Headers(), SECRET, { now: NOW }), false);
  });

  it('refuses a replay under another event id or sequence, and one outside the tolerance', () => {
    assert.equal(verifyWebhook(BODY, { ...HEADERS, 'x-opencall-event-id': 'c_abc.9' }, SECRET, { now: NOW }), false);
    assert.equal(verifyWebhook(BODY, { ...HEADERS, 'x-opencall-sequence': '9' }, SECRET, { now: NOW }), false);
    assert.equal(verifyWebhook(BODY, { ...HEADERS, 'x-opencall-timestamp': String(TS + 1) }, SECRET, { now: NOW }), false);
    // Default tolerance: 300 s either way.
    assert.equal(verifyWebhook(BODY, HEADERS, SECRET, { now: TS * 1000 + 300_000 }), true);
    assert.equal(verifyWebhook(BODY, HEADERS, SECRET, { now: TS * 1000 + 301_000 }), false);
    assert.equal(verifyWebhook(BODY, HEADERS, SECRET, { now: TS * 1000 - 301_000 }), false);
    assert.equal(verifyWebhook(BODY, HEADERS, SECRET, { now: TS * 1000 + 3_600_000, toleranceSeconds: 3600 }), true);
    // Without `now`, the real clock: a 2023 delivery is long stale.
    assert.equal(verifyWebhook(BODY, HEADERS, SECRET), false);
  });

  it('refuses a changed body, a wrong secret or a re-serialised body', () => {
    assert.equal(verifyWebhook(`${BODY} `, HEADERS, SECRET, { now: NOW }), false);
    assert.equal(verifyWebhook(BODY.replace('1700000000000', '1700000000001'), HEADERS, SECRET, { now: NOW }), false);
    assert.equal(verifyWebhook(BODY, HEADERS, 'whsec_other', { now: NOW }), false);
    assert.equal(verifyWebhook(JSON.stringify(JSON.parse(BODY), null, 1), HEADERS, SECRET, { now: NOW }), false);
  });

  it('returns false, never throws, on missing or malformed input', () => {
    const bad: unknown[] = [
      undefined,
      '',
      'sha256=',
      BODY_SIG.slice(0, -1),
      `${BODY_SIG}00`,
      BODY_SIG.replace('sha256=', 'sha1='),
      BODY_SIG.replace('sha256=', ''),
      `sha256=${'z'.repeat(64)}`,
      [BODY_SIG, BODY_SIG],
      [],
    ];
    for (const value of bad) {
      const headers = { ...HEADERS, 'x-opencall-signature': value } as Record<string, string | string[] | undefined>;
      assert.equal(verifyWebhook(BODY, headers, SECRET, { now: NOW }), false, `header ${JSON.stringify(value)}`);
    }
    for (const name of ['x-opencall-timestamp', 'x-opencall-event-id', 'x-opencall-sequence']) {
      const rest: Record<string, string> = { ...HEADERS };
      delete rest[name];
      assert.equal(verifyWebhook(BODY, rest, SECRET, { now: NOW }), false, `without ${name}`);
    }
    assert.equal(verifyWebhook(BODY, { ...HEADERS, 'x-opencall-timestamp': '1.7e9' }, SECRET, { now: NOW }), false);
    assert.equal(verifyWebhook(BODY, {}, SECRET, { now: NOW }), false);
    assert.equal(verifyWebhook(BODY, HEADERS, '', { now: NOW }), false);
    // Wrong runtime types from JavaScript callers.
    const loose = verifyWebhook as (body: unknown, headers: unknown, secret: unknown) => boolean;
    assert.equal(loose(BODY, null, SECRET), false);
    assert.equal(loose(BODY, 'x-opencall-signature', SECRET), false);
    assert.equal(loose(42, HEADERS, SECRET), false);
    assert.equal(loose(BODY, HEADERS, undefined), false);
    assert.equal(loose(BODY, { ...HEADERS, 'x-opencall-signature': 7 }, SECRET), false);
    const throwing = {
      ...HEADERS,
      get 'x-opencall-signature'(): string {
        throw new Error('boom');
      },
    };
    assert.equal(loose(BODY, throwing, SECRET), false);
  });
});
