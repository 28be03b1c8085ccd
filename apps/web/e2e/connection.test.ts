/**
 * The page when the connection or the session goes wrong, in real Chromium: the signaling socket is
 * routed through Playwright so the test can cut it (the server and the browser stay real), and the
 * UserSig is issued with a short life so it expires mid-call.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page, WebSocketRoute } from 'playwright-core';
import { browserSkip, dial, signIn, waitConnected, waitIncoming, waitOutcome } from '../../../test/helpers/browser.js';
import type { AppPage } from '../../../test/helpers/browser.js';
import { useBrowserSuite } from '../../../test/helpers/browserSuite.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A switchable network for one page's signaling sockets. */
interface Network {
  /** Installs the route (pass as `openApp`'s setup). */
  install(page: Page): Promise<void>;
  /** Drops the sockets and refuses new ones until {@link restore}. */
  cut(): void;
  restore(): void;
}

/** Routes a page's signaling sockets through the test so it can cut them. */
function cuttable(): Network {
  let blocked = false;
  const live = new Set<WebSocketRoute>();
  const install = (page: Page): Promise<void> => page.routeWebSocket(/\/ws$/, (ws) => {
    if (blocked) {
      // The network is "down": the attempt fails at once and the engine backs off and retries.
      void ws.close({ code: 1011, reason: 'test: network down' });
      return;
    }
    ws.connectToServer();
    live.add(ws);
    ws.onClose(() => live.delete(ws));
  });
  return {
    install,
    cut: () => {
      blocked = true;
      for (const ws of live) void ws.close({ code: 1011, reason: 'test: network down' });
      live.clear();
    },
    restore: () => {
      blocked = false;
    },
  };
}

describe('web app: connection and session trouble in Chromium', { skip: browserSkip('web app e2e (connection)'), timeout: 180_000 }, () => {
  const suite = useBrowserSuite({ server: { heartbeatTimeoutMs: 2500 } });

  /** Two pages; the first one's signaling goes through `net` when given. */
  async function pair(net?: Network): Promise<[AppPage, AppPage]> {
    return Promise.all([suite.newPage(net ? { setup: (p) => net.install(p) } : {}), suite.newPage()]);
  }

  async function connect(alice: AppPage, bob: AppPage, bobId: string): Promise<void> {
    await dial(alice, [bobId], 'audio');
    await waitIncoming(bob);
    await bob.page.getByRole('button', { name: 'Accept audio call' }).click();
    await waitConnected(alice);
    await waitConnected(bob);
  }

  it('a short network drop shows "Reconnecting…" and the call goes on', async () => {
    const net = cuttable();
    const [alice, bob] = await pair(net);
    await signIn(alice, 'n_alice', 'Alice');
    await signIn(bob, 'n_bob', 'Bob');
    await connect(alice, bob, 'n_bob');

    net.cut();
    const banner = alice.page.locator('.reconnecting');
    await banner.waitFor({ state: 'visible' });
    assert.match((await banner.textContent()) ?? '', /Reconnecting/);
    await sleep(800);
    net.restore();
    await banner.waitFor({ state: 'hidden', timeout: 8000 });
    // Within the heartbeat window nothing happened to the call: both still connected, hang up works.
    await waitConnected(alice);
    await waitConnected(bob);
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(bob), 'Alice hung up');
    assert.deepEqual(suite.pages.flatMap((p) => p.errors), []);
  });

  it('a long drop ends the call: "Connection lost" here, "<name>\'s connection was lost" there', async () => {
    const net = cuttable();
    const [alice, bob] = await pair(net);
    await signIn(alice, 'l_alice', 'Alice');
    await signIn(bob, 'l_bob', 'Bob');
    await connect(alice, bob, 'l_bob');

    net.cut();
    // The server notices after heartbeatTimeoutMs and ends the 1-to-1 call as offline.
    assert.equal(await waitOutcome(bob), "Alice's connection was lost");
    net.restore();
    // Back online past the window, the engine ends its own call as offline: never a stuck screen.
    assert.equal(await waitOutcome(alice), 'Connection lost');
    await alice.page.locator('.reconnecting').waitFor({ state: 'hidden', timeout: 8000 });
    await alice.page.getByRole('button', { name: 'OK' }).click();
    await alice.page.getByRole('heading', { name: 'New call' }).waitFor();
    assert.deepEqual(suite.pages.flatMap((p) => p.errors), []);
  });

  it('an expiring UserSig is renewed in place during a call (onUserSigExpired → new sig → init)', async () => {
    const [alice, bob] = await pair();
    let issued = 0;
    // The first sig lives 2 s; renewals get the normal lifetime.
    await alice.page.route('**/dev/usersig', async (route) => {
      issued++;
      const body = JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>;
      await route.continue({ postData: JSON.stringify(issued === 1 ? { ...body, expireSeconds: 2 } : body) });
    });
    await signIn(alice, 's_alice', 'Alice');
    await signIn(bob, 's_bob', 'Bob');
    await connect(alice, bob, 's_bob');

    await alice.page.locator('.toast', { hasText: 'Session renewed' }).waitFor({ timeout: 8000 });
    assert.equal(issued, 2);
    await waitConnected(alice);
    await waitConnected(bob);
    await bob.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(alice), 'Bob hung up');
    assert.deepEqual(suite.pages.flatMap((p) => p.errors), []);
  });
});
