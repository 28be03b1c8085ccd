/**
 * Writes docs/call-state-machine.md from the call machine (packages/server/src/call/stateDoc.ts).
 *   node --import tsx --conditions=source scripts/gen-state-doc.ts          # write the file
 *   node --import tsx --conditions=source scripts/gen-state-doc.ts --check  # exit 1 if it is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STATE_DOC_PATH, renderStateDoc } from '../packages/server/src/call/stateDoc.js';

const path = fileURLToPath(new URL(`../${STATE_DOC_PATH}`, import.meta.url));
const rendered = renderStateDoc();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // A missing file is stale too.
  }
  if (current !== rendered) {
    console.error(`${STATE_DOC_PATH} is stale: run node --import tsx --conditions=source scripts/gen-state-doc.ts`);
    process.exit(1);
  }
  console.log(`${STATE_DOC_PATH} is up to date`);
} else {
  writeFileSync(path, rendered);
  console.log(`wrote ${STATE_DOC_PATH}`);
}
