/**
 * Exactly-once processing of call events across server crashes. The server gives every event a
 * call's state change produces a stable id, `<callId>:<version>:<n>`, and after a crash sends
 * stored events again (replays). An id is processed once; a replay is skipped when this device has
 * already processed a later version of that call (the replay arrived after the call moved on).
 * @packageDocumentation
 */

/**
 * Ids remembered: more than a device receives in the server's replay window after a crash (its
 * heartbeat window plus a few minutes of downtime).
 */
const ID_MEMORY = 4096;
/** Calls whose latest processed version is remembered. */
const CALL_MEMORY = 512;

/** The call id and version an event id names, or null for an id of another shape. */
function parseEventId(eid: string): { callId: string; version: number } | null {
  const last = eid.lastIndexOf(':');
  const mid = last > 0 ? eid.lastIndexOf(':', last - 1) : -1;
  if (mid <= 0) return null;
  const version = Number(eid.slice(mid + 1, last));
  return Number.isInteger(version) ? { callId: eid.slice(0, mid), version } : null;
}

/** What one device has processed. */
export class ProcessedEvents {
  readonly #ids = new Set<string>();
  readonly #versions = new Map<string, number>();

  /**
   * True when the event should be processed now (and records it); false for an id processed
   * already, or a replay overtaken by a later version of its call.
   */
  admit(eid: string, replay: boolean): boolean {
    if (this.#ids.has(eid)) return false;
    const parsed = parseEventId(eid);
    const seen = parsed ? this.#versions.get(parsed.callId) : undefined;
    if (replay && parsed && seen !== undefined && parsed.version < seen) return false;
    this.#ids.add(eid);
    // A Set and a Map iterate in insertion order: the first entry is the oldest.
    if (this.#ids.size > ID_MEMORY) this.#ids.delete(this.#ids.values().next().value as string);
    if (parsed && (seen === undefined || parsed.version > seen)) {
      this.#versions.delete(parsed.callId);
      this.#versions.set(parsed.callId, parsed.version);
      if (this.#versions.size > CALL_MEMORY) this.#versions.delete(this.#versions.keys().next().value as string);
    }
    return true;
  }
}
