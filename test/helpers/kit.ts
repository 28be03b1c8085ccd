/**
 * The call kit in real Chromium: the embedding examples (`examples/embed`, built once by Vite) are
 * served at `<server>/examples/…` through Playwright routes, so they share the OpenCall server's
 * origin (its `/config.json`, `/dev/usersig` and `/ws`) exactly as a page of the site would.
 * Kit elements live in a shadow root: helpers read through it. Suites get their server and Chromium
 * from {@link useKitBrowser}.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer, ServerOptions } from '@opencall/server';
import { ensureBuilt, launchChromium } from './browser.js';
import type { AppPage, ChromiumOptions, ViteApp } from './browser.js';
import { useBrowserSuite } from './browserSuite.js';
import type { BrowserSuite } from './browserSuite.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The embedding examples (plain page and React app). */
export const EXAMPLES: ViteApp = {
  dir: join(ROOT, 'examples/embed'),
  sources: ['examples/embed/plain', 'examples/embed/react', 'examples/embed/vite.config.ts', 'packages/callkit/src', 'packages/client/src', 'packages/protocol/src'],
};

/**
 * Chromium for kit pages: three fake devices of each kind, and Local Network Access checks off —
 * a document fulfilled by a Playwright route has no IP address space, so Chromium would treat it as
 * public and block its WebSocket to the loopback server (the real page, served by the server
 * itself, is local and unaffected).
 */
export const KIT_CHROMIUM: ChromiumOptions = { fakeDevices: 3, args: ['--disable-features=LocalNetworkAccessChecks'] };

/** Launches Chromium with {@link KIT_CHROMIUM} (for scripts; suites use {@link useKitBrowser}). */
export function launchKitChromium(): Promise<Browser> {
  return launchChromium(KIT_CHROMIUM);
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

/** Serves examples/embed/dist under `<server>/examples/` in `page`. */
async function routeExamples(page: Page, server: RunningServer): Promise<void> {
  const dist = join(EXAMPLES.dir, 'dist');
  await page.route(`${server.url}/examples/**`, async (route) => {
    const path = new URL(route.request().url()).pathname.slice('/examples/'.length);
    const file = normalize(join(dist, path));
    if (!file.startsWith(dist)) return route.fulfill({ status: 404 });
    try {
      await route.fulfill({ status: 200, body: await readFile(file), contentType: TYPES[extname(file)] ?? 'application/octet-stream' });
    } catch {
      await route.fulfill({ status: 404 });
    }
  });
}

/** Options of {@link openExample}. */
export interface ExampleOptions {
  viewport?: { width: number; height: number };
  /** CSS injected into the host page before the kit mounts (hostile global styles). */
  hostileCss?: string;
  /** Runs before the page loads (init scripts, routes). */
  setup?: (page: Page) => Promise<void>;
}

/**
 * Opens an embedding example signed in as `userId` and waits until its kit is initialised
 * (`window.kit.engine.isInitialized`).
 */
export async function openExample(browser: Browser, server: RunningServer, which: 'plain' | 'react', userId: string, opts: ExampleOptions = {}): Promise<AppPage> {
  await ensureBuilt(EXAMPLES);
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 400, height: 820 }, permissions: ['camera', 'microphone'], deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await routeExamples(page, server);
  if (opts.hostileCss) {
    const css = opts.hostileCss;
    await page.addInitScript((text) => {
      document.addEventListener('DOMContentLoaded', () => {
        const style = document.createElement('style');
        style.textContent = text;
        document.head.appendChild(style);
      });
    }, css);
  }
  await opts.setup?.(page);
  await page.goto(`${server.url}/examples/${which}/index.html?user=${encodeURIComponent(userId)}`);
  await page.waitForFunction(() => (window as unknown as { kit?: { engine: { isInitialized: boolean } } }).kit?.engine.isInitialized === true, undefined, { timeout: 20_000 });
  return { page, context, errors };
}

/** Records every RTCPeerConnection and getUserMedia track of the page (install before it loads). */
export async function recordMedia(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __pcs: RTCPeerConnection[]; __tracks: MediaStreamTrack[] };
    w.__pcs = [];
    w.__tracks = [];
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        w.__pcs.push(this);
      }
    };
    const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (c) => {
      const stream = await gum(c);
      w.__tracks.push(...stream.getTracks());
      return stream;
    };
  });
}

/** Bytes of `kind` received so far over every connection of the page. */
export async function bytesReceived(page: Page, kind: 'audio' | 'video'): Promise<number> {
  return page.evaluate(async (k) => {
    const w = window as unknown as { __pcs: RTCPeerConnection[] };
    let total = 0;
    for (const pc of w.__pcs) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((r: { type: string; kind?: string; bytesReceived?: number }) => {
        if (r.type === 'inbound-rtp' && r.kind === k) total += r.bytesReceived ?? 0;
      });
    }
    return total;
  }, kind);
}

/** The newest getUserMedia track of `kind`: its device and whether it is live (and older ones ended). */
export async function newestTrack(page: Page, kind: 'audio' | 'video'): Promise<{ deviceId: string; live: boolean; olderEnded: boolean }> {
  return page.evaluate((k) => {
    const tracks = (window as unknown as { __tracks: MediaStreamTrack[] }).__tracks.filter((t) => t.kind === k);
    const last = tracks[tracks.length - 1];
    return {
      deviceId: last?.getSettings().deviceId ?? '',
      live: last?.readyState === 'live',
      olderEnded: tracks.slice(0, -1).every((t) => t.readyState === 'ended'),
    };
  }, kind);
}

/** The server and Chromium of a kit suite, and its pages (see {@link useKitBrowser}). */
export interface KitBrowser extends BrowserSuite {
  /** {@link openExample} on this suite's server; the page's context closes after the current test. */
  open(which: 'plain' | 'react', userId: string, opts?: ExampleOptions): Promise<AppPage>;
}

/**
 * The set-up every kit suite shares: {@link useBrowserSuite} with the kit's Chromium
 * ({@link KIT_CHROMIUM}). The default server options are not about heartbeats: a roomy window keeps
 * a loaded machine from dropping a page.
 */
export function useKitBrowser(serverOptions: ServerOptions = { defaultRingTimeoutSeconds: 30, heartbeatTimeoutMs: 15_000 }): KitBrowser {
  const suite = useBrowserSuite({ server: serverOptions, chromium: KIT_CHROMIUM });
  return Object.assign(suite, {
    async open(which: 'plain' | 'react', userId: string, opts?: ExampleOptions): Promise<AppPage> {
      return suite.track(await openExample(suite.browser, suite.server, which, userId, opts));
    },
  });
}
