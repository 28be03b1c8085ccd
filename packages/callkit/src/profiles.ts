/**
 * Display names and avatars of the people on screen. Profiles come from `info.callerProfile` of an
 * incoming call (no round trip) and from `getUserProfiles` in batches; until one arrives the user id
 * stands in for the name. Screens subscribe and redraw names when profiles land.
 * @packageDocumentation
 */
import type { UserProfile } from '@opencall/client';

/** Loads profiles in batches (the engine refuses a second `getUserProfiles` while one runs). */
export type ProfileLoader = (userIds: string[]) => Promise<UserProfile[]>;

/** A cache of user profiles. */
export class ProfileBook {
  readonly #profiles = new Map<string, UserProfile>();
  readonly #asked = new Set<string>();
  readonly #listeners = new Set<() => void>();
  #loader: ProfileLoader | null = null;
  #pending: Promise<void> = Promise.resolve();

  /** Sets (or clears, on sign-out) how missing profiles are fetched. */
  setLoader(loader: ProfileLoader | null): void {
    this.#loader = loader;
    this.#asked.clear();
  }

  /** The display name of `userId` (its nickname, else the id). */
  nameOf(userId: string): string {
    const nick = this.#profiles.get(userId)?.nickname.trim();
    return nick ? nick : userId;
  }

  /** The avatar URL of `userId` ('' when unknown). */
  avatarOf(userId: string): string {
    return this.#profiles.get(userId)?.avatar ?? '';
  }

  /** Stores a profile learned elsewhere (e.g. the caller's profile on an incoming call). */
  remember(profile: UserProfile): void {
    this.#profiles.set(profile.userId, profile);
    this.#asked.add(profile.userId);
    this.#notify();
  }

  /** Fetches profiles not asked for yet; resolves when they are in (failures leave ids as names). */
  load(userIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(userIds)].filter((u) => !this.#asked.has(u));
    const loader = this.#loader;
    if (missing.length === 0 || !loader) return this.#pending;
    for (const u of missing) this.#asked.add(u);
    // Chained: one getUserProfiles at a time, 100 ids per request (the engine's limit).
    this.#pending = this.#pending.then(async () => {
      for (let i = 0; i < missing.length; i += 100) {
        try {
          for (const p of await loader(missing.slice(i, i + 100))) this.#profiles.set(p.userId, p);
        } catch {
          for (const u of missing.slice(i, i + 100)) this.#asked.delete(u);
        }
      }
      this.#notify();
    });
    return this.#pending;
  }

  /** Subscribes to profile arrivals; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }
}
