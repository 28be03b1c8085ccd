/**
 * Knowing when the signaling connection drops and comes back, through the engine's public
 * `WebSocket` option: the page hands the engine the browser's WebSocket with listeners attached,
 * so it can say "Reconnecting…" while the engine resumes the session by itself.
 * @packageDocumentation
 */
import type { WebSocketConstructor } from '@opencall/client';

/**
 * `up`: the server answered on a new socket (the first frame is the answer to the engine's auth);
 * `down`: a socket that had been answered closed.
 */
export type LinkEvent = 'up' | 'down';

/** A WebSocket class that reports each socket's first answer and its close to `onEvent`. */
export function trackedWebSocket(onEvent: (event: LinkEvent) => void): WebSocketConstructor {
  return class TrackedWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      let answered = false;
      // "Open" alone is not "connected": a reconnection attempt can open and be refused at once.
      this.addEventListener('message', () => {
        if (answered) return;
        answered = true;
        onEvent('up');
      });
      this.addEventListener('close', () => {
        if (answered) onEvent('down');
      });
    }
  };
}
