/**
 * A system notification for an incoming call while the tab is in the background, so a ringing
 * call is noticed even when the page is not visible. Clicking it brings the tab forward.
 * @packageDocumentation
 */
import { t } from '../i18n/index.js';

/** Shows and closes the incoming-call notification. */
export class IncomingNotice {
  #current: Notification | null = null;

  /** Asks for permission once (call from a user gesture, e.g. the sign-in button). */
  static requestPermission(): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'default') return;
    void Notification.requestPermission().catch(() => undefined);
  }

  /** Shows "Name is calling" if the page is hidden and notifications are allowed. */
  show(callerName: string, video: boolean, icon: string): void {
    this.close();
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    if (document.visibilityState !== 'hidden') return;
    try {
      const n = new Notification(t('notify.calling', { name: callerName }), {
        body: t(video ? 'notify.video' : 'notify.audio'),
        tag: 'opencall-incoming',
        requireInteraction: true,
        ...(icon.startsWith('data:') ? { icon } : {}),
      });
      n.onclick = () => {
        window.focus();
        n.close();
      };
      this.#current = n;
    } catch {
      // Some browsers only allow notifications from a service worker: the ring screen still shows.
    }
  }

  /** Closes the notification, if any. */
  close(): void {
    this.#current?.close();
    this.#current = null;
  }
}
