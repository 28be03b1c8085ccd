import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_DESCRIPTIONS, ErrorCode, wireError } from './errors.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| (-?\d+) \| ([A-Z_]+) \|/gm)].map((m) => [Number(m[1]), m[2]] as const);

describe('error code table', () => {
  it('docs/errors.md lists every code with its name, and nothing else', () => {
    const table = Object.entries(ErrorCode).map(([name, code]) => [code, name] as const);
    assert.deepEqual([...rows].sort((a, b) => a[0] - b[0]), [...table].sort((a, b) => a[0] - b[0]));
  });

  it('every code has a description and codes are unique', () => {
    const codes = Object.values(ErrorCode);
    assert.equal(new Set(codes).size, codes.length);
    for (const c of codes) assert.ok(ERROR_DESCRIPTIONS[c].length > 0, `description of ${c}`);
  });

  it('wireError appends the detail to the standard text', () => {
    assert.deepEqual(wireError(ErrorCode.RATE_LIMITED, 'at most 5/s'), { code: 4029, message: 'rate limited: at most 5/s' });
  });
});
