/**
 * TEST-ONLY crash hook: makes the crash window between a commit and its sends deterministic.
 * With `OPENCALL_TEST_CRASH_AFTER_COMMIT=<userId>` in the environment, the process kills itself
 * with SIGKILL right after a commit that stores a request of that user is durable, before any
 * event or response of that request is sent (test/idempotency-crash.test.ts,
 * test/cluster/idempotency-crash.test.ts). Never set it in production: it is read only when
 * present, and a server without it runs unchanged.
 */
import type { Storage } from './Storage.js';

/** The environment variable that arms the hook. */
export const CRASH_AFTER_COMMIT_ENV = 'OPENCALL_TEST_CRASH_AFTER_COMMIT';

/** Returns `storage`, its `commit` (and group-commit `stage`) wrapped when the hook is armed for `userId`. */
export function withCrashAfterCommit(storage: Storage, userId: string | undefined): Storage {
  if (!userId) return storage;
  const die = (): void => void process.kill(process.pid, 'SIGKILL');
  const commit = storage.commit.bind(storage);
  storage.commit = async (change) => {
    await commit(change);
    if (change.request?.userId === userId) die();
  };
  const stage = storage.stage?.bind(storage);
  if (stage) {
    storage.stage = (change) => {
      const staged = stage(change);
      // Chained before the caller's own `then` (its sends), so the kill comes first.
      if (change.request?.userId === userId) void staged.durable.then(die);
      return staged;
    };
  }
  return storage;
}
