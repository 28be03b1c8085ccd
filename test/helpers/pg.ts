/**
 * A private PostgreSQL database per test run (or per test): `createTestDatabase()` creates
 * `opencall_t_<random>` on the machine's server and `drop()` removes it, so runs never see each
 * other's rows. The server is `OPENCALL_TEST_PG` (default postgres://root@127.0.0.1:5432/postgres,
 * the one CI starts). When it does not answer, `pgUnavailable()` says why: suites then fail under
 * CI=true and skip, loudly, elsewhere.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** The administrative URL databases are created through. */
export const TEST_PG_URL = process.env.OPENCALL_TEST_PG ?? 'postgres://root@127.0.0.1:5432/postgres';

/** A database made for one test or run. */
export interface TestDatabase {
  /** `postgres://…/opencall_t_<random>`, ready to hand to `openStorage` or a server. */
  url: string;
  /** Its name. */
  name: string;
  /** Drops it, ending any connection still open on it. Idempotent. */
  drop(): Promise<void>;
}

/** Runs `fn` with a short-lived admin connection. */
async function withAdmin<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(TEST_PG_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Creates an empty database; the caller must `drop()` it (in `after`/`t.after`). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `opencall_t_${randomBytes(6).toString('hex')}`;
  await withAdmin((sql) => sql.unsafe(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      // WITH (FORCE): a test that failed half-way may have left a pool open.
      await withAdmin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

let probed: Promise<string | null> | null = null;

/**
 * Null when the test server answers; otherwise why not. Under CI=true an unreachable server is an
 * error (CI starts PostgreSQL, so tests must not silently skip there): this throws.
 */
export async function pgUnavailable(): Promise<string | null> {
  probed ??= withAdmin((sql) => sql`SELECT 1`).then(
    () => null,
    (e: unknown) => `PostgreSQL at ${TEST_PG_URL} does not answer (${e instanceof Error ? e.message : String(e)})`,
  );
  const why = await probed;
  if (why && process.env.CI === 'true') throw new Error(`${why}; CI must run the PostgreSQL suites`);
  if (why) console.warn(`\n*** SKIPPING PostgreSQL tests: ${why}. Start it (see .ci/run) to run them. ***\n`);
  return why;
}
