/**
 * Webhook signatures: fixed vectors computed with `openssl dgst -sha256 -hmac`, so the signer is
 * checked against an independent implementation, and a verifier that refuses (never throws on)
 * anything malformed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signWebhook, verifyWebhook } from './sign.js';

const BODY = '{"CallbackCommand":"Call.CallbackAfterStartCall","EventTime":1700000000000}';
const SECRET = 'whsec_test';
/** `printf '%s' "$BODY" | openssl dgst -sha256 -hmac whsec_test -hex` */
const BODY_SIG = 'sha256=95ad617af3ec8fdf42c4d5a474512bbeb5de456daa40733b5790821bd8c5c8ce';
/** `printf '%s' 'héllo ✓' | openssl dgst -sha256 -hmac k -hex` (UTF-8 bytes) */
const UNICODE_SIG = 'sha256=c9e883e85fd62789748a989f3c42acad0030ec540ae6c2ada42ef3ad49f267f4';

describe('signWebhook', () => {
  it('matches openssl for strings and buffers (UTF-8)', () => {
    assert.equal(signWebhook(BODY, SECRET), BODY_SIG);
    assert.equal(signWebhook(Buffer.from(BODY), SECRET), BODY_SIG);
    assert.equal(signWebhook('héllo ✓', 'k'), UNICODE_SIG);
    assert.equal(signWebhook(Buffer.from('héllo ✓', 'utf8'), 'k'), UNICODE_SIG);
  });

  it('refuses an empty secret instead of signing with no key', () => {
    assert.throws(() => signWebhook(BODY, ''), TypeError);
  });
});

describe('verifyWebhook', () => {
  it('accepts a valid signature from node:http headers, any header-name case, string or Buffer body', () => {
    assert.equal(verifyWebhook(BODY, { 'x-opencall-signature': BODY_SIG }, SECRET), true);
    assert.equal(verifyWebhook(Buffer.from(BODY), { 'X-OpenCall-Signature': BODY_SIG }, SECRET), true);
    assert.equal(verifyWebhook(BODY, { 'X-OPENCALL-SIGNATURE': [BODY_SIG], host: 'x' }, SECRET), true);
    assert.equal(verifyWebhook(BODY, { 'x-opencall-signature': BODY_SIG.toUpperCase().replace('SHA256', 'sha256') }, SECRET), true);
    assert.equal(verifyWebhook(BODY, { 'x-opencall-signature': ` ${BODY_SIG} ` }, SECRET), true);
  });

  it('accepts a Fetch Headers object', () => {
    const h = new Headers({ 'X-OpenCall-Signature': BODY_SIG, 'Content-Type': 'application/json' });
    assert.equal(verifyWebhook(BODY, h, SECRET), true);
    assert.equal(verifyWebhook(BODY, new Headers(), SECRET), false);
  });

  it('refuses a changed body, a wrong secret or a re-serialised body', () => {
    const headers = { 'x-opencall-signature': BODY_SIG };
    assert.equal(verifyWebhook(`${BODY} `, headers, SECRET), false);
    assert.equal(verifyWebhook(BODY.replace('1700000000000', '1700000000001'), headers, SECRET), false);
    assert.equal(verifyWebhook(BODY, headers, 'whsec_other'), false);
    assert.equal(verifyWebhook(JSON.stringify(JSON.parse(BODY), null, 1), headers, SECRET), false);
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
      const headers = { 'x-opencall-signature': value } as Record<string, string | string[] | undefined>;
      assert.equal(verifyWebhook(BODY, headers, SECRET), false, `header ${JSON.stringify(value)}`);
    }
    assert.equal(verifyWebhook(BODY, {}, SECRET), false);
    assert.equal(verifyWebhook(BODY, { 'x-opencall-signature': BODY_SIG }, ''), false);
    // Wrong runtime types from JavaScript callers.
    const loose = verifyWebhook as (body: unknown, headers: unknown, secret: unknown) => boolean;
    assert.equal(loose(BODY, null, SECRET), false);
    assert.equal(loose(BODY, 'x-opencall-signature', SECRET), false);
    assert.equal(loose(42, { 'x-opencall-signature': BODY_SIG }, SECRET), false);
    assert.equal(loose(BODY, { 'x-opencall-signature': BODY_SIG }, undefined), false);
    assert.equal(loose(BODY, { 'x-opencall-signature': 7 }, SECRET), false);
    const throwing = {
      get 'x-opencall-signature'(): string {
        throw new Error('boom');
      },
    };
    assert.equal(loose(BODY, throwing, SECRET), false);
  });
});
