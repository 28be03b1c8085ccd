/** A minute of chaos on three nodes (PostgreSQL + Redis behind nginx), fixed seed; see minute.ts. */
import { it } from 'node:test';
import { cluster, minute } from './minute.js';

it('a minute of chaos on three nodes (PostgreSQL + Redis), seed 5: no violation', { timeout: 900_000, skip: cluster ? false : 'PostgreSQL/Redis not reachable' }, () =>
  minute({ seed: 5, mode: 'cluster' }));
