/**
 * Group commit (batch.ts) on a real SQLite file: writes of one turn become durable together and
 * not before; a write that fails rolls back alone; a batch whose COMMIT fails tells every writer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { WriteBatch } from './batch.js';

const dir = mkdtempSync(join(tmpdir(), 'opencall-batch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function open(name: string): { db: Database.Database; reader: Database.Database } {
  const path = join(dir, name);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, p INTEGER REFERENCES parent(id))');
  return { db, reader: new Database(path, { readonly: true }) };
}

const count = (db: Database.Database) => (db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n;

test('the writes of one turn commit together at the end of the turn, not before', async () => {
  const { db, reader } = open('a.db');
  const batch = new WriteBatch(db, () => {});
  const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
  const a = batch.run(() => insert.run(1, 'a'));
  const b = batch.run(() => insert.run(2, 'b'));
  assert.equal(a.durable, b.durable, 'one batch');
  assert.equal(count(db), 2, 'the writing connection reads its staged rows');
  assert.equal(count(reader), 0, 'nothing is visible to others (nor durable) yet');
  await a.durable;
  assert.equal(count(reader), 2);
  // The next turn opens a new batch.
  const c = batch.run(() => insert.run(3, 'c'));
  assert.notEqual(c.durable, a.durable);
  assert.equal(await batch.write(() => insert.run(4, 'd').changes), 1);
  assert.equal(count(reader), 4);
  db.close();
  reader.close();
});

test('a write that throws rolls back alone; the batch keeps the others', async () => {
  const { db, reader } = open('b.db');
  const batch = new WriteBatch(db, () => {});
  const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)');
  const ok = batch.run(() => insert.run(1, 'kept'));
  assert.throws(() =>
    batch.run(() => {
      insert.run(2, 'half');
      insert.run(1, 'duplicate'); // primary key: the whole savepoint goes, row 2 included
    }),
  );
  await ok.durable;
  assert.deepEqual(reader.prepare('SELECT id, v FROM t').all(), [{ id: 1, v: 'kept' }]);
  db.close();
  reader.close();
});

test('a batch whose COMMIT fails rejects every writer, stores nothing and reports the rollback', async () => {
  const { db, reader } = open('c.db');
  let rollbacks = 0;
  const batch = new WriteBatch(db, () => rollbacks++);
  db.pragma('foreign_keys = ON');
  // Deferred: the dangling reference is found by COMMIT itself, as a disk error would be.
  db.pragma('defer_foreign_keys = ON');
  const a = batch.run(() => db.prepare('INSERT INTO t (id, v) VALUES (1, ?)').run('innocent'));
  const b = batch.run(() => db.prepare('INSERT INTO t (id, v, p) VALUES (2, ?, 99)').run('dangling'));
  await assert.rejects(a.durable, /FOREIGN KEY/);
  await assert.rejects(b.durable, /FOREIGN KEY/);
  assert.equal(rollbacks, 1);
  assert.equal(count(reader), 0);
  assert.equal(db.inTransaction, false, 'the connection is usable again');
  await batch.write(() => db.prepare('INSERT INTO t (id, v) VALUES (3, ?)').run('after'));
  assert.equal(count(reader), 1);
  db.close();
  reader.close();
});

test('settled() waits for the open batch to be durable, and resolves at once with none open', async () => {
  const { db, reader } = open('settled.db');
  const batch = new WriteBatch(db, () => {});
  await batch.settled();
  batch.run(() => db.prepare('INSERT INTO t (id, v) VALUES (1, ?)').run('a'));
  assert.equal(count(reader), 0);
  await batch.settled();
  assert.equal(count(reader), 1, 'what was staged before the wait is durable after it');
});
