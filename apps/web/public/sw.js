/**
 * OpenCall service worker (SPEC §9): rings a closed app. On a `call.invite` push it shows the
 * incoming-call notification (caller, audio/video, Accept and Decline, tag = callId) and reports
 * `shown`; on `call.withdraw` it replaces it by "Missed call from …" (canceled, no answer) or closes
 * it. Accept focuses an open page of the app (or opens one) which signs in and accepts; Decline
 * posts `reject` with the push's action token, so no page and no UserSig are needed.
 * Plain JavaScript: the browser loads this file as is.
 */
/* eslint-env serviceworker */
'use strict';

const MISSED = new Set(['canceled', 'noResponse', 'offline']);

/** Caller name shown in the notification. */
function callerName(p) {
  return (p.offlinePushInfo && p.offlinePushInfo.title) || (p.callerProfile && p.callerProfile.nickname) || p.callerId;
}

/** POST /push/action with the push's token; failures are ignored (the call times out anyway). */
function postAction(p, action) {
  return fetch(new URL('push/action', self.registration.scope), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ callId: p.callId, userId: p.userId, action, token: p.actionToken }),
  }).catch(() => undefined);
}

/** Keeps the worker alive for `promise` when the event allows it (synthetic events do not). */
function keepAlive(event, promise) {
  try {
    event.waitUntil(promise);
  } catch {
    // An event dispatched by script cannot be extended; the promise still runs.
  }
  return promise;
}

async function onInvite(p) {
  const video = p.mediaType === 2;
  await self.registration.showNotification(callerName(p), {
    body: (p.offlinePushInfo && p.offlinePushInfo.desc) || (video ? 'Incoming video call' : 'Incoming audio call'),
    tag: p.callId,
    renotify: true,
    requireInteraction: true,
    data: p,
    actions: [
      { action: 'accept', title: 'Accept' },
      { action: 'decline', title: 'Decline' },
    ],
  });
  await postAction(p, 'shown');
}

async function onWithdraw(p) {
  const shown = await self.registration.getNotifications({ tag: p.callId });
  for (const n of shown) n.close();
  if (!MISSED.has(p.reason)) return;
  await self.registration.showNotification(callerName(p), {
    body: `Missed call from ${callerName(p)}`,
    tag: p.callId,
    data: { ...p, missed: true },
  });
}

self.addEventListener('push', (event) => {
  let p;
  try {
    p = event.data ? event.data.json() : null;
  } catch {
    return;
  }
  if (!p || typeof p.callId !== 'string') return;
  if (p.type === 'call.invite') keepAlive(event, onInvite(p));
  else if (p.type === 'call.withdraw') keepAlive(event, onWithdraw(p));
});

/** Focuses an open page of the app and asks it to accept, or opens one that will. */
async function openAndAccept(p) {
  const url = new URL(`./?accept=${encodeURIComponent(p.callId)}`, self.registration.scope).href;
  const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const page = pages.find((c) => c.url.startsWith(self.registration.scope));
  if (page) {
    page.postMessage({ type: 'opencall.accept', callId: p.callId });
    try {
      await page.focus();
    } catch {
      // Focus needs a user gesture; the page accepts either way.
    }
    return;
  }
  await self.clients.openWindow(url);
}

self.addEventListener('notificationclick', (event) => {
  const n = event.notification;
  const p = n.data || {};
  n.close();
  if (p.missed) {
    keepAlive(event, self.clients.openWindow(new URL('./', self.registration.scope).href));
    return;
  }
  if (event.action === 'decline') keepAlive(event, postAction(p, 'reject'));
  else keepAlive(event, openAndAccept(p));
});

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
