/** Narrow tests of exactly-once event processing across server crashes (eventIds.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessedEvents } from './eventIds.js';

test('an event id is processed once, replayed or not', () => {
  const p = new ProcessedEvents();
  assert.equal(p.admit('c_1:2:0', false), true);
  assert.equal(p.admit('c_1:2:0', false), false);
  assert.equal(p.admit('c_1:2:0', true), false);
  assert.equal(p.admit('c_1:2:1', true), true, 'another event of the same commit');
});

test('a replay overtaken by a later version of its call is skipped; a live event never is', () => {
  const p = new ProcessedEvents();
  assert.equal(p.admit('c_1:5:0', false), true);
  assert.equal(p.admit('c_1:4:0', true), false, 'the call moved on: the late replay is stale');
  assert.equal(p.admit('c_2:4:0', true), true, 'another call is not affected');
  assert.equal(p.admit('c_1:4:1', false), true, 'a live event out of order (two nodes) still counts');
  assert.equal(p.admit('c_1:6:0', true), true, 'a replay of a newer version is news');
});

test('memory is bounded: the oldest ids are forgotten first', () => {
  const p = new ProcessedEvents();
  for (let i = 0; i < 5000; i++) assert.equal(p.admit(`c_${i}:1:0`, false), true);
  assert.equal(p.admit('c_4999:1:0', false), false, 'recent ids are kept');
  assert.equal(p.admit('c_0:1:0', false), true, 'the oldest were forgotten');
});

test('an id sent without its callId (`:<version>:<n>`) is the same id as the whole one', () => {
  const p = new ProcessedEvents();
  assert.equal(p.admit(':2:0', false, 'c_1'), true);
  assert.equal(p.admit('c_1:2:0', true), false, 'the whole id of the same event');
  assert.equal(p.admit(':2:0', false, 'c_2'), true, 'the same tail of another call');
  assert.equal(p.admit(':1:0', true, 'c_1'), false, 'a stale replay of c_1');
  assert.equal(p.admit('odd-id', false), true);
  assert.equal(p.admit('odd-id', false), false, 'ids of another shape are remembered too');
});
