import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallEngineError } from '../errors.js';
import { ServerRotation } from './ServerRotation.js';

const urls = ['ws://a/ws', 'ws://b/ws', 'ws://c/ws'];

describe('ServerRotation', () => {
  test('starts at the URL the random draw picks, and advance() wraps around the list', () => {
    assert.equal(new ServerRotation(urls, () => 0).current, 'ws://a/ws');
    assert.equal(new ServerRotation(urls, () => 0.5).current, 'ws://b/ws');
    const r = new ServerRotation(urls, () => 0.999);
    assert.equal(r.current, 'ws://c/ws');
    assert.equal(r.advance(), 'ws://a/ws');
    assert.equal(r.advance(), 'ws://b/ws');
    // A random source that returns 1 (out of contract) still lands inside the list.
    assert.equal(new ServerRotation(urls, () => 1).current, 'ws://c/ws');
  });

  test('random starts spread over every URL', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(new ServerRotation(urls).current);
    assert.deepEqual([...seen].sort(), urls);
  });

  test('an empty list is refused with -1202', () => {
    assert.throws(() => new ServerRotation([]), (e: CallEngineError) => e.code === -1202);
  });

  test('round() tries each URL once from the current one and stays on the one that answered', async () => {
    const r = new ServerRotation(urls, () => 0.5);
    const tried: string[] = [];
    const got = await r.round(async (url) => {
      tried.push(url);
      if (url !== 'ws://a/ws') throw new Error(`down: ${url}`);
      return url;
    }, () => true);
    assert.equal(got, 'ws://a/ws');
    assert.deepEqual(tried, ['ws://b/ws', 'ws://c/ws', 'ws://a/ws']);
    assert.equal(r.current, 'ws://a/ws');
  });

  test('round() throws the last error after every URL failed, and ends where it started', async () => {
    const r = new ServerRotation(urls, () => 0);
    const tried: string[] = [];
    await assert.rejects(
      r.round(async (url) => {
        tried.push(url);
        throw new Error(`down: ${url}`);
      }, () => true),
      /down: ws:\/\/c\/ws/,
    );
    assert.deepEqual(tried, urls);
    assert.equal(r.current, 'ws://a/ws');
  });

  test('round() stops at an error that is not retryable (another node would refuse it too)', async () => {
    const r = new ServerRotation(urls, () => 0);
    const tried: string[] = [];
    const refused = new CallEngineError(70001, 'UserSig expired');
    await assert.rejects(
      r.round(async (url) => {
        tried.push(url);
        throw refused;
      }, (err) => !(err instanceof CallEngineError && err.code === 70001)),
      (e) => e === refused,
    );
    assert.deepEqual(tried, ['ws://a/ws']);
  });
});
