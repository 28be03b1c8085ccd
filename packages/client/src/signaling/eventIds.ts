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

/**
 * An event id in parts: its call, the rest (`:<version>:<n>`) and the version; null for an id of
 * another shape. `callId`: the call the event names, for an id sent without it (`:<version>:<n>`,
 * protocol `wireEventId`). Kept in parts, never joined: a joined id is a new (cons) string every
 * time, and hashing and comparing those in a Set cost µs per event on a busy client.
 */
function parseEventId(eid: string, callId: string | undefined): { callId: string; tail: string; version: number } | null {
  const last = eid.lastIndexOf(':');
  const mid = last > 0 ? eid.lastIndexOf(':', last - 1) : -1;
  if (mid < 0 || (mid === 0 && callId === undefined)) return null;
  const version = Number(eid.slice(mid + 1, last));
  if (!Number.isInteger(version)) return null;
  return mid === 0 ? { callId: callId!, tail: eid, version } : { callId: eid.slice(0, mid), tail: eid.slice(mid), version };
}

/** What one device has processed. */
export class ProcessedEvents {
  /** Processed ids: the tails (`:<version>:<n>`) per call; ids of another shape under ''. */
  readonly #ids = new Map<string, Set<string>>();
  /**
   * The remembered ids in arrival order, as a ring of (call, tail): the oldest is evicted by key
   * in O(1). (Taking a Set's first entry with `values().next()` walks past the holes earlier
   * deletions left at its front.)
   */
  readonly #ringCalls: (string | undefined)[] = new Array<string | undefined>(ID_MEMORY);
  readonly #ringTails: (string | undefined)[] = new Array<string | undefined>(ID_MEMORY);
  #oldest = 0;
  /** Latest version per call, least recently updated first (a Map iterates in insertion order). */
  #versions = new Map<string, number>();
  /** Deletions from #versions since it was last rebuilt (see #setVersion). */
  #versionHoles = 0;
  /** The call whose version was set last (the Map's last key): its updates need no re-insert. */
  #lastCall: string | null = null;

  /**
   * True when the event should be processed now (and records it); false for an id processed
   * already, or a replay overtaken by a later version of its call. `callId`: the call the event
   * names (needed for an id sent without it).
   */
  admit(eid: string, replay: boolean, callId?: string): boolean {
    const parsed = parseEventId(eid, callId);
    const call = parsed ? parsed.callId : '';
    const tail = parsed ? parsed.tail : eid;
    let tails = this.#ids.get(call);
    if (tails?.has(tail)) return false;
    const seen = parsed ? this.#versions.get(call) : undefined;
    if (replay && parsed && seen !== undefined && parsed.version < seen) return false;
    if (!tails) this.#ids.set(call, (tails = new Set()));
    tails.add(tail);
    this.#evictOldest();
    this.#ringCalls[this.#oldest] = call;
    this.#ringTails[this.#oldest] = tail;
    this.#oldest = (this.#oldest + 1) % ID_MEMORY;
    if (parsed && (seen === undefined || parsed.version > seen)) this.#setVersion(call, parsed.version);
    return true;
  }

  /** Forgets the id in the ring slot about to be reused (the oldest), once ID_MEMORY are remembered. */
  #evictOldest(): void {
    const call = this.#ringCalls[this.#oldest];
    if (call === undefined) return;
    const tails = this.#ids.get(call);
    tails?.delete(this.#ringTails[this.#oldest]!);
    if (tails?.size === 0) this.#ids.delete(call);
  }

  /** Records a call's latest version as the most recently updated entry; the least recent goes past CALL_MEMORY. */
  #setVersion(callId: string, version: number): void {
    if (this.#lastCall === callId) {
      // Already the newest entry: updating in place keeps it there.
      this.#versions.set(callId, version);
      return;
    }
    this.#lastCall = callId;
    if (this.#versions.delete(callId)) this.#versionHoles++;
    this.#versions.set(callId, version);
    if (this.#versions.size > CALL_MEMORY) {
      this.#versions.delete(this.#versions.keys().next().value as string);
      this.#versionHoles++;
    }
    // Deleted entries stay as holes that `keys().next()` walks past until the table is rebuilt:
    // rebuild it (same order) once per CALL_MEMORY deletions, O(1) per update on average.
    if (this.#versionHoles >= CALL_MEMORY) {
      this.#versions = new Map(this.#versions);
      this.#versionHoles = 0;
    }
  }
}
