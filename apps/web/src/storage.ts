/**
 * What the page remembers in localStorage: the last identity (to prefill the sign-in form), when
 * the history was last looked at (for the missed-calls badge) and whether video calls start with a
 * camera preview. Never the UserSig.
 * @packageDocumentation
 */
import type { SignInInput } from './ui/SignInScreen.js';

const IDENTITY_KEY = 'opencall.identity';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode or storage full: the page works without remembering.
  }
}

/** The last identity used on this browser, if any. */
export function loadIdentity(): SignInInput | null {
  try {
    const v = JSON.parse(read(IDENTITY_KEY) ?? 'null') as Partial<SignInInput> | null;
    if (v && typeof v.userId === 'string' && typeof v.nickname === 'string' && typeof v.color === 'string') {
      return { userId: v.userId, nickname: v.nickname, color: v.color };
    }
  } catch {
    // Unreadable: start fresh.
  }
  return null;
}

/** Remembers the identity for the next visit. */
export function saveIdentity(identity: SignInInput): void {
  write(IDENTITY_KEY, JSON.stringify(identity));
}

/** When `userId` last opened the history (ms epoch; 0 = never). */
export function lastSeenHistory(userId: string): number {
  return Number(read(`opencall.historySeen.${userId}`) ?? 0) || 0;
}

/** Records that `userId` looked at the history now. */
export function markHistorySeen(userId: string): void {
  write(`opencall.historySeen.${userId}`, String(Date.now()));
}

/** Whether video calls start with the camera and microphone preview on this browser. */
export function loadPreviewChoice(): boolean {
  return read('opencall.previewVideo') === '1';
}

/** Remembers the preview choice. */
export function savePreviewChoice(preview: boolean): void {
  write('opencall.previewVideo', preview ? '1' : '0');
}
