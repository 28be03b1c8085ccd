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
  /**
   * The remembered ids in arrival order, as a ring: the oldest is evicted in O(1). (Deleting a
   * Set's first entry over and over leaves holes that every later `values().next()` walks past:
   * that alone was ~5 % of a load-test client's CPU.)
   */
  readonly #order: (string | undefined)[] = new Array<string | undefined>(ID_MEMORY);
  #oldest = 0;
  readonly #versions = new Map<string, number>();
  /** The call whose version was set last (the Map's last key): its updates need no re-insert. */
  #lastCall: string | null = null;

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
    const evicted = this.#order[this.#oldest];
    if (evicted !== undefined) this.#ids.delete(evicted);
    this.#order[this.#oldest] = eid;
    this.#oldest = (this.#oldest + 1) % ID_MEMORY;
    if (parsed && (seen === undefined || parsed.version > seen)) this.#setVersion(parsed.callId, parsed.version);
    return true;
  }

  /** Records a call's latest version, its entry moved to the newest end (a Map iterates in insertion order). */
  #setVersion(callId: string, version: number): void {
    if (this.#lastCall === callId) {
      // Already the newest entry: updating in place keeps it there.
      this.#versions.set(callId, version);
      return;
    }
    this.#versions.delete(callId);
    this.#versions.set(callId, version);
    this.#lastCall = callId;
    if (this.#versions.size > CALL_MEMORY) this.#versions.delete(this.#versions.keys().next().value as string);
  }
}
