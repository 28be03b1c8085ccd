/**
 * Loads janode (ESM-only, untyped) and casts it once to the local types in janodeTypes.ts.
 * Loading lazily keeps servers running with `sfu: 'none'` free of janode.
 */
import type { JanodeModule, VideoRoomPluginDescriptor } from './janodeTypes.js';
import { silentLogger } from './types.js';
import type { MediaLogger } from './types.js';

// Variables, not literals: janode ships no types, so TypeScript must not try to resolve them.
const JANODE = 'janode';
const JANODE_VIDEOROOM = 'janode/plugins/videoroom';
let janodeLog: MediaLogger = silentLogger;
let loaded: Promise<{ J: JanodeModule; VR: VideoRoomPluginDescriptor }> | null = null;

/** Where janode's own warnings/errors go (its logger is one process-wide singleton: last one wins). */
export function setJanodeLogger(logger: MediaLogger): void {
  janodeLog = logger;
}

/** The janode core module and its VideoRoom plugin descriptor, typed. */
export function loadJanode(): Promise<{ J: JanodeModule; VR: VideoRoomPluginDescriptor }> {
  loaded ??= (async () => {
    const [core, vr] = (await Promise.all([import(JANODE), import(JANODE_VIDEOROOM)])) as [
      { default: JanodeModule },
      { default: VideoRoomPluginDescriptor },
    ];
    const J = core.default;
    // Janode prints to the console: route its errors (warn) and warnings (debug; it warns about
    // harmless acks) to the injected logger, and drop info/verbose/debug.
    J.Logger.setLevel('warning');
    const text = (args: unknown[]): string => args.map((a) => (typeof a === 'function' ? String((a as () => unknown)()) : String(a))).join(' ');
    J.Logger.error = (...a: unknown[]) => {
      const msg = text(a);
      // A detach racing Janus's own "detached" event is harmless: not worth a warning.
      if (msg.includes('error while detaching')) janodeLog.debug({ janode: msg }, 'janode error');
      else janodeLog.warn({ janode: msg }, 'janode error');
    };
    J.Logger.warning = (...a: unknown[]) => janodeLog.debug({ janode: text(a) }, 'janode warning');
    return { J, VR: vr.default };
  })();
  return loaded;
}
