/**
 * Reconnection delays.
 * @packageDocumentation
 */

/** Delay before reconnection attempt `attempt` (0-based): doubling from `initial`, capped, with jitter. */
export function backoffDelay(attempt: number, initial: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  // "Equal jitter": between half and all of the ceiling, so clients dropped together (a server
  // restart) spread out instead of reconnecting in lockstep, yet none retries sooner than half.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
