/**
 * TEST-ONLY crash hook: makes the crash window between a commit and its sends deterministic.
 * With `OPENCALL_TEST_CRASH_AFTER_COMMIT=<userId>` in the environment, the process kills itself
 * with SIGKILL right after a commit that stores a request of that user, before any event or
 * response of that request is sent (test/idempotency-crash.test.ts). Never set it in production:
 * it is read only when present, and a server without it runs unchanged.
 */
import type { Storage } from './Storage.js';

/** The environment variable that arms the hook. */
export const CRASH_AFTER_COMMIT_ENV = 'OPENCALL_TEST_CRASH_AFTER_COMMIT';

/** Returns `storage`, its `commit` wrapped when the hook is armed for `userId`. */
export function withCrashAfterCommit(storage: Storage, userId: string | undefined): Storage {
  if (!userId) return storage;
  const commit = storage.commit.bind(storage);
  storage.commit = async (change) => {
    await commit(change);
    if (change.request?.userId === userId) process.kill(process.pid, 'SIGKILL');
  };
  return storage;
}
