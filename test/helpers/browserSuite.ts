/**
 * The set-up every browser suite shares: one development server serving the web app and one
 * Chromium for the suite, the pages a test opened closed after it. The web app's e2e suites use it
 * directly; the call kit's build on it ({@link useKitBrowser} in kit.ts).
 * @packageDocumentation
 */
import { after, afterEach, before } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunningServer, ServerOptions } from '@opencall/server';
import { launchChromium, openApp, startWebServer } from './browser.js';
import type { AppPage, ChromiumOptions, OpenAppOptions } from './browser.js';

/** Options of {@link useBrowserSuite}. */
export interface BrowserSuiteOptions {
  /** The suite's server: {@link startWebServer}'s defaults with these on top. */
  server?: ServerOptions;
  /** Fake devices and extra flags of the suite's Chromium ({@link launchChromium}). */
  chromium?: ChromiumOptions;
}

/** Options of {@link BrowserSuite.newPage}. */
export interface NewPageOptions extends OpenAppOptions {
  /** Another server to open the app on (one from {@link BrowserSuite.withServer}); the suite's by default. */
  server?: RunningServer;
}

/** The server, Chromium and pages of a browser suite (see {@link useBrowserSuite}). */
export interface BrowserSuite {
  /** The suite's server (started by the suite's `before`). */
  readonly server: RunningServer;
  /** The suite's Chromium (launched by the suite's `before`). */
  readonly browser: Browser;
  /** The pages of the current test, in the order they opened; their contexts close after it. */
  readonly pages: readonly AppPage[];
  /** Opens the web app in a fresh context ({@link openApp}) as one of the current test's pages. */
  newPage(opts?: NewPageOptions): Promise<AppPage>;
  /** Makes a page opened some other way (an embedding example) one of the current test's pages. */
  track(page: AppPage): AppPage;
  /**
   * Runs `fn` against a server of its own ({@link startWebServer} with `options`, not the suite's
   * options), then closes the test's pages before that server, so none of them outlives it.
   */
  withServer(options: ServerOptions, fn: (server: RunningServer) => Promise<void>): Promise<void>;
}

/**
 * Registers the suite's hooks on the enclosing `describe`: the server, then Chromium (`before`);
 * the test's pages closed (`afterEach`); Chromium, then the server, stopped (`after`). A suite's own
 * hooks run in the order they are registered, so ones that must run before these (a service the
 * server calls, engines to sign out before their pages close) are registered before this call.
 */
export function useBrowserSuite(options: BrowserSuiteOptions = {}): BrowserSuite {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const pages: AppPage[] = [];
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useBrowserSuite: ${what} is used before the suite's before() ran`);
    return value;
  };
  const closePages = async (): Promise<void> => {
    // A page may already be closed (or its browser gone): closing is best effort.
    await Promise.all(pages.splice(0).map((p) => p.context.close().catch(() => undefined)));
  };
  const track = (page: AppPage): AppPage => {
    pages.push(page);
    return page;
  };
  before(async () => {
    server = await startWebServer(options.server);
    browser = await launchChromium(options.chromium);
  });
  afterEach(closePages);
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get server() {
      return started(server, 'the server');
    },
    get browser() {
      return started(browser, 'Chromium');
    },
    pages,
    async newPage({ server: on, ...opts } = {}) {
      return track(await openApp(started(browser, 'Chromium'), on ?? started(server, 'the server'), opts));
    },
    track,
    async withServer(serverOptions, fn) {
      const own = await startWebServer(serverOptions);
      try {
        await fn(own);
      } finally {
        await closePages();
        await own.close();
      }
    },
  };
}
