/** A minute of chaos on one node (SQLite), fixed seed; see minute.ts. One file per run: each takes most of the per-file time limit. */
import { it } from 'node:test';
import { minute } from './minute.js';

it('a minute of chaos on one node (SQLite), seed 7: no violation', { timeout: 600_000 }, () => minute({ seed: 7 }));

