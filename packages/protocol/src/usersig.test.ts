import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { deflateSync, inflateSync } from 'node:zlib';
import { ErrorCode } from './errors.js';
import { genUserSig, verifyUserSig } from './usersig.js';
import type { VerifyUserSigResult } from './usersig.js';

/** The official CommonJS package has no types; describe the parts used here. */
interface OfficialApi {
  genUserSig(userid: string, expire: number): string;
  genSig(userid: string, expire: number, userBuf: Buffer | string | null): string;
  genPrivateMapKey(userid: string, expire: number, roomid: number, privilegeMap: number): string;
  genPrivateMapKeyWithStringRoomID(userid: string, expire: number, roomstr: string, privilegeMap: number): string;
}
const require = createRequire(import.meta.url);
const TLSSigAPIv2 = require('tls-sig-api-v2') as { Api: new (sdkappid: number, key: string) => OfficialApi };

const KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
const SDK_APP_ID = 1400000000;
const USER = 'xiaojun';
const TIME = 1700000000;
const EXPIRE = 15552000;
const NOW = TIME * 1000;
const VECTOR_HMAC_HEX = '2ef03b77f230ee04ac9ec92f5730433ce0820dbb8d0b0e061f04c2d1b8a9f81e';
const VECTOR_SIG = 'LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4=';

/** Decodes a UserSig into its JSON document (test helper, throws on bad input). */
function decode(userSig: string): Record<string, unknown> {
  const b64 = userSig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  return JSON.parse(inflateSync(Buffer.from(b64, 'base64')).toString('utf8')) as Record<string, unknown>;
}

/** Encodes raw bytes the way a UserSig is encoded after deflate. */
function escapeBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

/** Encodes a JSON document into a UserSig. */
function encode(doc: unknown): string {
  return escapeBase64(deflateSync(Buffer.from(JSON.stringify(doc), 'utf8')));
}

function vectorSig(extra: { userBuf?: Uint8Array | string } = {}): string {
  return genUserSig({ sdkAppId: SDK_APP_ID, secretKey: KEY, userId: USER, expireSeconds: EXPIRE, now: NOW, ...extra });
}

function verifyVector(userSig: unknown, now: number = NOW): VerifyUserSigResult {
  return verifyUserSig({ sdkAppId: SDK_APP_ID, secretKey: KEY, userId: USER, userSig, now });
}

function assertRefused(result: VerifyUserSigResult, code: number): void {
  assert.equal(result.ok, false, `expected refusal ${code}, got ${JSON.stringify(result)}`);
  if (!result.ok) {
    assert.equal(result.code, code, result.reason);
    assert.equal(typeof result.reason, 'string');
    assert.ok(result.reason.length > 0);
  }
}

/** Runs `fn` with Date.now() pinned to `ms` (the official package reads the clock itself). */
function atTime<T>(ms: number, fn: () => T): T {
  const realNow = Date.now;
  Date.now = () => ms;
  try {
    return fn();
  } finally {
    Date.now = realNow;
  }
}

test('the SPEC vector: HMAC-SHA256 of the signed text has the expected hex and base64', () => {
  const text = `TLS.identifier:${USER}\nTLS.sdkappid:${SDK_APP_ID}\nTLS.time:${TIME}\nTLS.expire:${EXPIRE}\n`;
  const hmac = createHmac('sha256', Buffer.from(KEY, 'utf8')).update(text).digest();
  assert.equal(hmac.toString('hex'), VECTOR_HMAC_HEX);
  assert.equal(hmac.toString('base64'), VECTOR_SIG);
});

test('genUserSig produces the SPEC vector TLS.sig and document', () => {
  const sig = vectorSig();
  assert.match(sig, /^[A-Za-z0-9*_-]+$/);
  const doc = decode(sig);
  assert.equal(doc['TLS.sig'], VECTOR_SIG);
  assert.deepEqual(doc, {
    'TLS.ver': '2.0',
    'TLS.identifier': USER,
    'TLS.sdkappid': SDK_APP_ID,
    'TLS.expire': EXPIRE,
    'TLS.time': TIME,
    'TLS.sig': VECTOR_SIG,
  });
  assert.deepEqual(Object.keys(doc), ['TLS.ver', 'TLS.identifier', 'TLS.sdkappid', 'TLS.expire', 'TLS.time', 'TLS.sig']);
});

test('genUserSig floors now (ms) to whole seconds for TLS.time', () => {
  const doc = decode(genUserSig({ sdkAppId: SDK_APP_ID, secretKey: KEY, userId: USER, expireSeconds: EXPIRE, now: NOW + 999 }));
  assert.equal(doc['TLS.time'], TIME);
  assert.equal(doc['TLS.sig'], VECTOR_SIG);
});

test('genUserSig defaults now to Date.now()', () => {
  const doc = atTime(NOW + 123, () => decode(genUserSig({ sdkAppId: SDK_APP_ID, secretKey: KEY, userId: USER, expireSeconds: EXPIRE })));
  assert.equal(doc['TLS.time'], TIME);
});

test('genUserSig rejects invalid options', () => {
  const base = { sdkAppId: SDK_APP_ID, secretKey: KEY, userId: USER, expireSeconds: EXPIRE, now: NOW };
  assert.throws(() => genUserSig({ ...base, sdkAppId: 0 }), RangeError);
  assert.throws(() => genUserSig({ ...base, sdkAppId: 1.5 }), RangeError);
  assert.throws(() => genUserSig({ ...base, secretKey: '' }), TypeError);
  assert.throws(() => genUserSig({ ...base, userId: '' }), TypeError);
  assert.throws(() => genUserSig({ ...base, expireSeconds: -1 }), RangeError);
  assert.throws(() => genUserSig({ ...base, now: Number.NaN }), RangeError);
});

test('verifyUserSig accepts a round trip with the correct expireAt', () => {
  const result = verifyVector(vectorSig());
  assert.deepEqual(result, { ok: true, expireAt: (TIME + EXPIRE) * 1000 });
});

test('verifyUserSig accepts a round trip at the real current time', () => {
  const userSig = genUserSig({ sdkAppId: 1400123456, secretKey: 'another-key', userId: 'alice_01', expireSeconds: 60 });
  const result = verifyUserSig({ sdkAppId: 1400123456, secretKey: 'another-key', userId: 'alice_01', userSig });
  assert.equal(result.ok, true);
  if (result.ok) {
    assert.ok(result.expireAt > Date.now() + 50_000 && result.expireAt <= Date.now() + 60_000);
  }
});

test('verifyUserSig accepts a round trip with a Buffer userbuf', () => {
  const userBuf = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);
  const sig = vectorSig({ userBuf });
  const doc = decode(sig);
  assert.equal(doc['TLS.userbuf'], userBuf.toString('base64'));
  assert.notEqual(doc['TLS.sig'], VECTOR_SIG);
  assert.deepEqual(verifyVector(sig), { ok: true, expireAt: (TIME + EXPIRE) * 1000 });
});

test('genUserSig encodes Uint8Array views and strings as userbuf bytes', () => {
  const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
  const view = backing.subarray(2, 5);
  assert.equal(decode(vectorSig({ userBuf: view }))['TLS.userbuf'], Buffer.from([1, 2, 3]).toString('base64'));
  assert.equal(decode(vectorSig({ userBuf: 'héllo' }))['TLS.userbuf'], Buffer.from('héllo', 'utf8').toString('base64'));
  assert.equal(verifyVector(vectorSig({ userBuf: 'héllo' })).ok, true);
});

test('verifyUserSig accepts a sig made by the official tls-sig-api-v2 package (genUserSig)', () => {
  const api = new TLSSigAPIv2.Api(SDK_APP_ID, KEY);
  const theirs = atTime(NOW, () => api.genUserSig(USER, EXPIRE));
  assert.equal(decode(theirs)['TLS.sig'], VECTOR_SIG);
  assert.deepEqual(verifyVector(theirs), { ok: true, expireAt: (TIME + EXPIRE) * 1000 });
  // Same document as ours (the official Node package orders keys differently).
  assert.deepEqual(decode(theirs), decode(vectorSig()));
});

test('verifyUserSig accepts a sig made by the official package at the real current time', () => {
  const api = new TLSSigAPIv2.Api(SDK_APP_ID, KEY);
  const theirs = api.genUserSig(USER, 86400);
  const result = verifyUserSig({ sdkAppId: SDK_APP_ID, secretKey: KEY, userId: USER, userSig: theirs });
  assert.equal(result.ok, true);
});

test('verifyUserSig accepts official sigs with a userbuf (genPrivateMapKey, genPrivateMapKeyWithStringRoomID, genSig)', () => {
  const api = new TLSSigAPIv2.Api(SDK_APP_ID, KEY);
  const userBuf = Buffer.from('opaque user buffer \u00e9\u0000\u00ff', 'utf8');
  const sigs = atTime(NOW, () => [
    api.genPrivateMapKey(USER, EXPIRE, 10000, 255),
    api.genPrivateMapKeyWithStringRoomID(USER, EXPIRE, '1000000040', 255),
    api.genSig(USER, EXPIRE, userBuf),
  ]);
  for (const theirs of sigs) {
    assert.equal(typeof decode(theirs)['TLS.userbuf'], 'string');
    assert.deepEqual(verifyVector(theirs), { ok: true, expireAt: (TIME + EXPIRE) * 1000 });
  }
  // The official genSig and ours agree on the full document for the same userbuf.
  const theirs = sigs[2];
  assert.ok(theirs !== undefined);
  assert.deepEqual(decode(theirs), decode(vectorSig({ userBuf })));
});

test('the official package has no verify function; ours matches its output field for field instead', () => {
  const api = new TLSSigAPIv2.Api(SDK_APP_ID, KEY) as unknown as Record<string, unknown>;
  const verifiers = Object.keys(Object.getPrototypeOf(api) as object).filter((k) => /verif/i.test(k));
  assert.deepEqual(verifiers, []);
});

test('verifyUserSig accepts a sig whose base64 padding was stripped', () => {
  const sig = vectorSig().replace(/_+$/, '');
  assert.equal(verifyVector(sig).ok, true);
});

test('verifyUserSig accepts documents with any key order and whitespace', () => {
  const doc = decode(vectorSig());
  const reordered = Object.fromEntries(Object.entries(doc).reverse());
  const json = JSON.stringify(reordered, null, 2);
  const sig = escapeBase64(deflateSync(Buffer.from(json, 'utf8')));
  assert.equal(verifyVector(sig).ok, true);
});

test('verifyUserSig refuses an expired sig with 70001', () => {
  const sig = vectorSig();
  const end = (TIME + EXPIRE) * 1000;
  assert.equal(verifyVector(sig, end).ok, true);
  assert.equal(verifyVector(sig, end + 999).ok, true);
  assertRefused(verifyVector(sig, end + 1000), ErrorCode.USERSIG_EXPIRED);
  assertRefused(verifyVector(sig, end + 86_400_000), ErrorCode.USERSIG_EXPIRED);
});

test('verifyUserSig refuses an expired zero-lifetime sig with 70001', () => {
  const sig = genUserSig({ sdkAppId: SDK_APP_ID, secretKey: KEY, userId: USER, expireSeconds: 0, now: NOW });
  assert.equal(verifyVector(sig, NOW).ok, true);
  assertRefused(verifyVector(sig, NOW + 1000), ErrorCode.USERSIG_EXPIRED);
});

test('verifyUserSig refuses a sig for another user with 70013', () => {
  const sig = vectorSig();
  assertRefused(verifyUserSig({ sdkAppId: SDK_APP_ID, secretKey: KEY, userId: 'someone_else', userSig: sig, now: NOW }), ErrorCode.USERSIG_USER_MISMATCH);
});

test('verifyUserSig refuses a sig for another sdkAppId with 70014', () => {
  const sig = vectorSig();
  assertRefused(verifyUserSig({ sdkAppId: 1400000001, secretKey: KEY, userId: USER, userSig: sig, now: NOW }), ErrorCode.USERSIG_SDKAPPID_MISMATCH);
  // sdkAppId is checked before the user id.
  assertRefused(verifyUserSig({ sdkAppId: 1400000001, secretKey: KEY, userId: 'other', userSig: sig, now: NOW }), ErrorCode.USERSIG_SDKAPPID_MISMATCH);
});

test('verifyUserSig refuses a tampered signature with 70003', () => {
  const doc = decode(vectorSig());
  const flipped = `${VECTOR_SIG.startsWith('A') ? 'B' : 'A'}${VECTOR_SIG.slice(1)}`;
  assertRefused(verifyVector(encode({ ...doc, 'TLS.sig': flipped })), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.sig': '' })), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.sig': VECTOR_SIG.slice(0, -1) })), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.sig': Buffer.from(VECTOR_HMAC_HEX, 'hex').toString('base64url') })), ErrorCode.USERSIG_INVALID);
});

test('verifyUserSig refuses tampered signed fields (time, expire, userbuf) with 70003', () => {
  const doc = decode(vectorSig());
  assertRefused(verifyVector(encode({ ...doc, 'TLS.expire': EXPIRE * 10 })), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.time': TIME + 1 })), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.userbuf': 'AAAA' })), ErrorCode.USERSIG_INVALID);
  const withBuf = decode(vectorSig({ userBuf: 'abc' }));
  const { 'TLS.userbuf': _dropped, ...withoutBuf } = withBuf;
  assert.equal(_dropped, Buffer.from('abc').toString('base64'));
  assertRefused(verifyVector(encode(withoutBuf)), ErrorCode.USERSIG_INVALID);
});

test('verifyUserSig refuses a sig made with another secret key with 70003', () => {
  const sig = genUserSig({ sdkAppId: SDK_APP_ID, secretKey: 'not-the-key', userId: USER, expireSeconds: EXPIRE, now: NOW });
  assertRefused(verifyVector(sig), ErrorCode.USERSIG_INVALID);
});

test('verifyUserSig refuses a forged expired sig with 70003, not 70001', () => {
  const sig = genUserSig({ sdkAppId: SDK_APP_ID, secretKey: 'not-the-key', userId: USER, expireSeconds: 1, now: NOW });
  assertRefused(verifyVector(sig, NOW + 10_000_000), ErrorCode.USERSIG_INVALID);
});

test('verifyUserSig refuses garbage strings with 70003', () => {
  for (const garbage of ['x', 'hello world', '!!!!', '****', '____', 'eJ', '{"TLS.sig":"x"}', '\u0000\u0001', '\u{1F600}']) {
    assertRefused(verifyVector(garbage), ErrorCode.USERSIG_INVALID);
  }
});

test('verifyUserSig refuses the empty string with 70003', () => {
  assertRefused(verifyVector(''), ErrorCode.USERSIG_INVALID);
});

test('verifyUserSig refuses non-string values with 70003', () => {
  for (const value of [undefined, null, 42, true, {}, [], Buffer.from(vectorSig()), Symbol('s'), () => vectorSig()]) {
    assertRefused(verifyVector(value), ErrorCode.USERSIG_INVALID);
  }
});

test('verifyUserSig refuses non-base64 with 70003', () => {
  const sig = vectorSig();
  assertRefused(verifyVector(`${sig.slice(0, 10)}%${sig.slice(10)}`), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(`${sig.slice(0, 10)} ${sig.slice(10)}`), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(`${sig}\n`), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(`${sig}A`), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector('A_B_'), ErrorCode.USERSIG_INVALID);
});

test('verifyUserSig refuses valid base64 of non-zlib data with 70003', () => {
  assertRefused(verifyVector(escapeBase64(Buffer.from('this is not zlib data at all'))), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(escapeBase64(Buffer.from(JSON.stringify(decode(vectorSig()))))), ErrorCode.USERSIG_INVALID);
  // A truncated zlib stream.
  const full = deflateSync(Buffer.from(JSON.stringify(decode(vectorSig()))));
  assertRefused(verifyVector(escapeBase64(full.subarray(0, full.length - 8))), ErrorCode.USERSIG_INVALID);
});

test('verifyUserSig refuses zlib of non-JSON with 70003', () => {
  assertRefused(verifyVector(escapeBase64(deflateSync(Buffer.from('not json')))), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(escapeBase64(deflateSync(Buffer.from([0xff, 0xfe, 0x7b, 0x7d])))), ErrorCode.USERSIG_INVALID);
  for (const json of ['null', '42', '"str"', '[1,2]', 'true']) {
    assertRefused(verifyVector(escapeBase64(deflateSync(Buffer.from(json)))), ErrorCode.USERSIG_INVALID);
  }
});

test('verifyUserSig refuses JSON missing or mistyped fields with 70003', () => {
  const doc = decode(vectorSig());
  for (const key of ['TLS.identifier', 'TLS.sdkappid', 'TLS.time', 'TLS.expire', 'TLS.sig']) {
    const { [key]: _removed, ...rest } = doc;
    assert.notEqual(_removed, undefined);
    assertRefused(verifyVector(encode(rest)), ErrorCode.USERSIG_INVALID);
  }
  assertRefused(verifyVector(encode({})), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.sdkappid': String(SDK_APP_ID) })), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.time': String(TIME) })), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.expire': 1.5 })), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.identifier': 7 })), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.sig': null })), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector(encode({ ...doc, 'TLS.userbuf': 5 })), ErrorCode.USERSIG_INVALID);
  // Fields hidden behind __proto__ do not count.
  const proto = `{"__proto__":${JSON.stringify(doc)}}`;
  assertRefused(verifyVector(escapeBase64(deflateSync(Buffer.from(proto)))), ErrorCode.USERSIG_INVALID);
});

test('verifyUserSig refuses huge input with 70003', () => {
  assertRefused(verifyVector('A'.repeat(8193)), ErrorCode.USERSIG_INVALID);
  assertRefused(verifyVector('A'.repeat(10_000_000)), ErrorCode.USERSIG_INVALID);
  // A valid sig padded past the length limit with a huge (but signed) userbuf.
  const big = vectorSig({ userBuf: randomBytes(8000) });
  assert.ok(big.length > 8192);
  assertRefused(verifyVector(big), ErrorCode.USERSIG_INVALID);
});

test('verifyUserSig refuses a zlib bomb (inflated output above 64 KiB) with 70003', () => {
  const doc = { ...decode(vectorSig()), pad: ' '.repeat(1_000_000) };
  const bomb = encode(doc);
  assert.ok(bomb.length <= 8192, `bomb is ${bomb.length} chars`);
  assertRefused(verifyVector(bomb), ErrorCode.USERSIG_INVALID);
  // Just under the cap still verifies (extra keys are ignored).
  const fits = encode({ ...decode(vectorSig()), pad: ' '.repeat(60_000) });
  assert.equal(verifyVector(fits).ok, true);
});

test('verifyUserSig never throws on garbage options', () => {
  const sig = vectorSig();
  const cases: unknown[] = [
    undefined,
    null,
    {},
    { sdkAppId: SDK_APP_ID, secretKey: undefined, userId: USER, userSig: sig },
    { sdkAppId: SDK_APP_ID, secretKey: 42, userId: USER, userSig: sig },
    { sdkAppId: SDK_APP_ID, secretKey: KEY, userId: USER, userSig: sig, now: Number.NaN },
    { sdkAppId: SDK_APP_ID, secretKey: KEY, userId: USER, userSig: sig, now: 'soon' },
    { sdkAppId: '1400000000', secretKey: KEY, userId: USER, userSig: sig, now: NOW },
    { sdkAppId: SDK_APP_ID, secretKey: KEY, userId: null, userSig: sig, now: NOW },
  ];
  for (const options of cases) {
    const result = verifyUserSig(options as Parameters<typeof verifyUserSig>[0]);
    assert.equal(result.ok, false);
  }
});
