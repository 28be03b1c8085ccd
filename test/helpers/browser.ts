/**
 * Real Chromium for browser tests: Debian's `/usr/bin/chromium` driven by playwright-core (never
 * `playwright install`), with fake camera/microphone and loopback WebRTC (MEDIA-NOTES.md), the web
 * app built once by Vite, and a real server that serves it.
 *
 * Missing Chromium: with CI=true the suites fail (a CI machine must have it); otherwise they are
 * skipped with a loud message.
 * @packageDocumentation
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { startServer } from '@opencall/server';
import type { RunningServer, ServerOptions } from '@opencall/server';

/** The Chromium binary (override with CHROMIUM_PATH). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags from MEDIA-NOTES.md: fake devices, loopback ICE, no background traffic, autoplay allowed. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WEB = join(ROOT, 'apps/web');

/**
 * The `skip` option for a browser suite: a reason when Chromium is missing outside CI (printed
 * loudly), false otherwise. Under CI=true a missing Chromium is not skipped: launching fails the suite.
 */
export function browserSkip(suite: string): string | false {
  if (existsSync(CHROMIUM_PATH)) return false;
  if (process.env.CI === 'true') return false;
  const reason = `SKIPPED ${suite}: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium; CI=true makes this a failure)`;
  console.warn(`\n${'!'.repeat(reason.length)}\n${reason}\n${'!'.repeat(reason.length)}\n`);
  return reason;
}

/** What a suite may change about the Chromium {@link launchChromium} starts. */
export interface ChromiumOptions {
  /**
   * n fake cameras, n fake microphones (a default plus n-1) and n outputs (Chromium's
   * `device-count` option of `--use-fake-device-for-media-stream`), for device-switching tests.
   */
  fakeDevices?: number;
  /** Flags added to {@link CHROMIUM_ARGS}. */
  args?: string[];
}

/** Launches headless Chromium with the media flags of {@link CHROMIUM_ARGS}, changed by `opts`. */
export async function launchChromium(opts: ChromiumOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium is required (CI=true) but ${CHROMIUM_PATH} does not exist: apt-get install chromium`);
  const args = opts.fakeDevices
    ? CHROMIUM_ARGS.map((a) => (a === '--use-fake-device-for-media-stream' ? `${a}=device-count=${opts.fakeDevices}` : a))
    : CHROMIUM_ARGS;
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...args, ...(opts.args ?? [])], headless: true, timeout: 30_000 });
}

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return path.endsWith('.test.ts') ? 0 : st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'dist') continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

/** A Vite app the browser tests build: its folder, config, and the sources it is built from. */
export interface ViteApp {
  /** Folder holding vite.config.ts; the build goes to its dist/. */
  dir: string;
  /** Folders and files (relative to the repository) whose changes require a rebuild. */
  sources: string[];
}

/** The calling page. */
export const WEB_APP: ViteApp = {
  dir: WEB,
  sources: ['apps/web/src', 'apps/web/index.html', 'apps/web/vite.config.ts', 'packages/callkit/src', 'packages/client/src', 'packages/protocol/src'],
};

/** True when `app`'s dist is newer than every source it is built from. */
function isFresh(app: ViteApp): boolean {
  const stamp = join(app.dir, 'dist', '.built');
  if (!existsSync(stamp)) return false;
  const newest = Math.max(...app.sources.map((s) => newestMtime(join(ROOT, s))));
  return statSync(stamp).mtimeMs > newest;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Builds `app`'s dist with Vite's JS API unless it is already newer than its sources. Test files
 * run in parallel processes, so a lock folder serialises builders, and the result is moved into
 * place with a rename so a server never serves half a build.
 */
export async function ensureBuilt(app: ViteApp): Promise<void> {
  if (isFresh(app)) return;
  const lock = join(tmpdir(), `opencall-build-${createHash('sha1').update(app.dir).digest('hex').slice(0, 10)}.lock`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 3 minutes belongs to a builder that died.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      await sleep(250);
    }
  }
  try {
    if (isFresh(app)) return;
    const { build } = await import('vite');
    // Under <app>/.tmp (git-ignored), on the same file system as dist so the swap is a rename.
    const tmp = join(app.dir, '.tmp');
    mkdirSync(tmp, { recursive: true });
    const out = join(tmp, `dist-${process.pid}`);
    await build({ root: app.dir, configFile: join(app.dir, 'vite.config.ts'), logLevel: 'error', build: { outDir: out, emptyOutDir: true } });
    writeFileSync(join(out, '.built'), new Date().toISOString());
    const dist = join(app.dir, 'dist');
    const old = join(tmp, `dist-old-${process.pid}`);
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(out, dist);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds apps/web/dist unless it is fresh. */
export function ensureWebAppBuilt(): Promise<void> {
  return ensureBuilt(WEB_APP);
}

/** Starts a development-mode server (no secret key: the page mints sigs at /dev/usersig) serving the web app. */
export async function startWebServer(options: ServerOptions = {}): Promise<RunningServer> {
  await ensureWebAppBuilt();
  return startServer({
    port: 0,
    sfu: 'none',
    logLevel: 'silent',
    heartbeatTimeoutMs: 2000,
    defaultRingTimeoutSeconds: 8,
    webApp: true,
    ...options,
  });
}

/** A page of the web app with what the test saw go wrong in it. */
export interface AppPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught exceptions, as text. */
  errors: string[];
}

/** Options of {@link openApp}. */
export interface OpenAppOptions {
  /** The page's size; a phone (400 × 820) unless given. */
  viewport?: { width: number; height: number };
  /** Runs before the page loads (routes such as `routeWebSocket` only apply to documents loaded after them). */
  setup?: (page: Page) => Promise<void>;
}

/** Opens the app in a fresh context (own storage; camera, microphone and notifications allowed). */
export async function openApp(browser: Browser, server: RunningServer, opts: OpenAppOptions = {}): Promise<AppPage> {
  const viewport = opts.viewport ?? { width: 400, height: 820 };
  const context = await browser.newContext({ viewport, permissions: ['camera', 'microphone', 'notifications'], deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await opts.setup?.(page);
  await page.goto(server.url + '/');
  return { page, context, errors };
}

/** Signs in through the form (user id, display name) and waits for the home screen. */
export async function signIn(app: AppPage, userId: string, nickname: string): Promise<void> {
  const { page } = app;
  await page.getByLabel('User ID').fill(userId);
  await page.getByLabel('Display name').fill(nickname);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'New call' }).waitFor();
}

/** Types ids into the dialer and starts an audio or video call. */
export async function dial(app: AppPage, userIds: string[], media: 'audio' | 'video'): Promise<void> {
  const input = app.page.locator('#dial-input');
  for (const id of userIds) {
    await input.fill(id);
    await input.press('Enter');
  }
  await app.page.getByRole('button', { name: media === 'video' ? 'Start video call' : 'Start audio call' }).click();
}

/** Waits for the ring screen and returns its caller name text. */
export async function waitIncoming(app: AppPage): Promise<string> {
  const dialog = app.page.getByRole('dialog', { name: /./ }).filter({ has: app.page.locator('.incoming-body') });
  await dialog.waitFor();
  return (await dialog.locator('#incoming-name').textContent()) ?? '';
}

/** The call timer is running: this page is connected. */
export async function waitConnected(app: AppPage): Promise<void> {
  await app.page.locator('.call[data-phase="connected"] .call-status[data-kind="timer"]').waitFor();
}

/** Waits for the end-of-call card and returns its title. */
export async function waitOutcome(app: AppPage): Promise<string> {
  // A handle, not a locator: the card closes by itself after a few seconds, and a handle still
  // reads the text of the element it found (a locator would look again and wait for a new card).
  const title = await app.page.waitForSelector('.outcome:not([hidden]) .outcome-title');
  const text = (await title.textContent()) ?? '';
  await title.dispose();
  return text;
}

/** Frames decoded by the video element showing `userId` (0 when there is none); tiles live in the call kit's shadow root. */
export async function framesOf(app: AppPage, userId: string): Promise<number> {
  return app.page.evaluate((u) => {
    const root = document.querySelector('opencall-callkit')?.shadowRoot ?? document;
    const v = root.querySelector<HTMLVideoElement>(`.tile[data-user="${u}"] video`);
    return v ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
  }, userId);
}

/** Polls `read` until `ok` accepts its value; returns the last value either way. */
export async function poll<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await sleep(everyMs);
    v = await read();
  }
  return v;
}
