/** Types shared by the media modules (Janus supervisor, SFU driver, TURN credentials). */

/**
 * The slice of a pino logger the media modules use. Always called as `(fields, message)` so a
 * pino `Logger` (or a child of one) can be passed as is.
 */
export interface MediaLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** A logger that drops everything (the default when none is injected). */
export const silentLogger: MediaLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

/** The part of an `Error` worth logging, from anything thrown. */
export function errorFields(err: unknown): { err: string } {
  return { err: err instanceof Error ? err.message : String(err) };
}

/** `p`, or a rejection naming `what` after `ms` (janode requests have no timeout of their own). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`janus ${what} timed out after ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
