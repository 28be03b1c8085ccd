/**
 * Offline push in the page (SPEC §9): registers the service worker (public/sw.js), subscribes to
 * Web Push with the server's VAPID key once notifications are allowed (permission is asked on the
 * sign-in click, never on load), and hands the subscription to `engine.registerPush`. Also carries
 * "accept this call" requests from a notification's Accept into the page.
 * @packageDocumentation
 */
import type { CallEngine } from '@opencall/client';

/** Outcome of {@link enableOfflinePush}, shown to the user when it is not `registered`. */
export type PushStatus = 'registered' | 'unsupported' | 'not-allowed' | 'unavailable';

/** Key bytes from base64url (what `pushManager.subscribe` takes). */
function keyBytes(b64url: string): Uint8Array<ArrayBuffer> {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Registers the worker and, when notifications are allowed, this browser's push subscription for
 * the signed-in user. A new subscription is created only when `mayCreate` (the user granted
 * notifications on this sign-in's click); later visits re-register the existing one. Never throws:
 * a browser without push keeps working as before.
 */
export async function enableOfflinePush(engine: CallEngine, mayCreate: boolean): Promise<PushStatus> {
  if (!('serviceWorker' in navigator) || typeof PushManager === 'undefined') return 'unsupported';
  try {
    const reg = await navigator.serviceWorker.register('./sw.js');
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return 'not-allowed';
    const res = await fetch('./push/vapid-public-key');
    if (!res.ok) return 'unavailable';
    const { publicKey } = (await res.json()) as { publicKey: string };
    await navigator.serviceWorker.ready;
    const existing = await reg.pushManager.getSubscription();
    if (!existing && !mayCreate) return 'not-allowed';
    const sub = existing ?? (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) }));
    await engine.registerPush({ type: 'webpush', subscription: sub.toJSON() as never });
    return 'registered';
  } catch {
    // No push service reachable (e.g. a browser without one) or refused: calls ring while the page is open.
    return 'unavailable';
  }
}

/**
 * Calls `onAccept(callId)` when a notification's Accept asks this page to answer: from the
 * `?accept=<callId>` of a page the worker opened (removed from the address bar) or from a message
 * of the worker to a page already open.
 */
export function listenForAcceptRequests(onAccept: (callId: string) => void): void {
  const url = new URL(location.href);
  const callId = url.searchParams.get('accept');
  if (callId) {
    url.searchParams.delete('accept');
    history.replaceState(null, '', url.href);
    queueMicrotask(() => onAccept(callId));
  }
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent<unknown>) => {
    const m = e.data as { type?: unknown; callId?: unknown } | null;
    if (m && m.type === 'opencall.accept' && typeof m.callId === 'string') onAccept(m.callId);
  });
}
