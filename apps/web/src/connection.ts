/**
 * Knowing when the signaling connection drops and comes back, through the engine's public
 * `WebSocket` option: the page hands the engine the browser's WebSocket with open/close listeners
 * attached, so it can say "Reconnecting…" while the engine resumes the session by itself.
 * @packageDocumentation
 */
import type { WebSocketConstructor } from '@opencall/client';

/** The connection's state as the page shows it. */
export type LinkEvent = 'open' | 'closed';

/** A WebSocket class that reports every socket's open and close to `onEvent`. */
export function trackedWebSocket(onEvent: (event: LinkEvent) => void): WebSocketConstructor {
  return class TrackedWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      this.addEventListener('open', () => onEvent('open'));
      this.addEventListener('close', () => onEvent('closed'));
    }
  };
}
