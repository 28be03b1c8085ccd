/**
 * Reading a receiver's answer safely: a capped body read and readable network errors, for the
 * dispatcher's `lastError` and logs.
 */

/** A readable message for a thrown value, with the cause fetch hides behind "fetch failed". */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${err.message}: ${code ? `${code} ` : ''}${cause.message}`;
  }
  return err.message;
}

/**
 * Reads at most `limit` bytes of a response body, then cancels the rest, so a huge or endless
 * body costs a bounded amount of memory and time.
 */
export async function readCapped(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks).toString('utf8');
      chunks.push(value);
      total += value.byteLength;
    }
    await reader.cancel();
    return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
  } finally {
    reader.releaseLock();
  }
}
