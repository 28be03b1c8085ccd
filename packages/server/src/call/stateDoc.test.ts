/**
 * docs/call-state-machine.md is generated from the machine; this fails when it is stale (the same
 * check as `scripts/gen-state-doc.ts --check`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STATE_DOC_PATH, renderStateDoc } from './stateDoc.js';

const onDisk = (): string => {
  try {
    return readFileSync(fileURLToPath(new URL(`../../../../${STATE_DOC_PATH}`, import.meta.url)), 'utf8');
  } catch {
    return '';
  }
};

test(`${STATE_DOC_PATH} matches the machine (regenerate with: node --import tsx --conditions=source scripts/gen-state-doc.ts)`, () => {
  const rendered = renderStateDoc();
  assert.equal(renderStateDoc(), rendered, 'rendering is deterministic');
  assert.ok(onDisk() === rendered, `${STATE_DOC_PATH} is stale: run node --import tsx --conditions=source scripts/gen-state-doc.ts`);
});
