/**
 * Takes the screenshots in docs/screenshots/ with real Chromium against a real server:
 * sign-in, dialer, calling, incoming call, in-call audio, in-call video, group video, outcome, history,
 * call details.
 * Run: `node --import tsx --conditions=source apps/web/scripts/screenshots.ts [outDir]`.
 * @packageDocumentation
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  dial,
  framesOf,
  launchChromium,
  openApp,
  poll,
  signIn,
  startWebServer,
  waitConnected,
  waitIncoming,
  waitOutcome,
} from '../../../test/helpers/browser.js';
import type { AppPage } from '../../../test/helpers/browser.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
mkdirSync(out, { recursive: true });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const server = await startWebServer({ defaultRingTimeoutSeconds: 30 });
const browser = await launchChromium();
const shot = async (app: AppPage, name: string): Promise<void> => {
  await sleep(350); // let transitions settle
  await app.page.screenshot({ path: join(out, `${name}.png`) });
  console.log(`wrote ${name}.png`);
};
try {
  const alice = await openApp(browser, server);
  const bob = await openApp(browser, server);
  const carol = await openApp(browser, server);
  await alice.page.getByLabel('User ID').fill('alice');
  await alice.page.getByLabel('Display name').fill('Alice Martin');
  await alice.page.getByRole('radio', { name: 'Colour 2' }).click();
  await alice.page.getByLabel('Display name').focus();
  await shot(alice, 'sign-in');
  await alice.page.getByRole('button', { name: 'Sign in' }).click();
  await alice.page.getByRole('heading', { name: 'New call' }).waitFor();
  await signIn(bob, 'bob', 'Bob Stone');
  await signIn(carol, 'carol', 'Carol Diaz');

  // A bit of history first: a declined call and a short audio call.
  await dial(carol, ['alice'], 'audio');
  await waitIncoming(alice);
  await alice.page.getByRole('button', { name: 'Decline call' }).click();
  await waitOutcome(carol);
  await carol.page.getByRole('button', { name: 'OK' }).click();
  await alice.page.locator('.outcome').waitFor({ state: 'hidden' });

  await dial(alice, ['bob'], 'audio');
  await waitIncoming(bob);
  await bob.page.getByRole('button', { name: 'Accept audio call' }).click();
  await waitConnected(alice);
  await sleep(2200);
  await shot(alice, 'in-call-audio');
  await alice.page.getByRole('button', { name: 'Hang up' }).click();
  await waitOutcome(alice);
  await alice.page.getByRole('button', { name: 'OK' }).click();
  await bob.page.getByRole('button', { name: 'OK' }).click().catch(() => undefined);
  await alice.page.locator('#dial-input').fill('bob');
  await alice.page.locator('#dial-input').press('Enter');
  await sleep(600);
  await shot(alice, 'dialer');

  // Incoming video call at Bob, then connected video.
  await alice.page.locator('#dial-input').fill('');
  await alice.page.getByRole('button', { name: 'Start video call' }).click();
  await waitIncoming(bob);
  await shot(bob, 'incoming');
  await shot(alice, 'calling');
  await bob.page.getByRole('button', { name: 'Accept video call' }).click();
  await waitConnected(alice);
  await poll(() => framesOf(alice, 'bob'), (n) => n > 10, 8000);
  await sleep(1500);
  await shot(alice, 'in-call-video');

  // Carol tries Bob meanwhile: busy.
  await dial(carol, ['bob'], 'audio');
  await waitOutcome(carol);
  await shot(carol, 'outcome');
  await carol.page.getByRole('button', { name: 'OK' }).click();

  // Group: Alice adds Carol; the grid shows everyone.
  await alice.page.getByRole('button', { name: 'Add people to the call' }).click();
  await alice.page.locator('#invite-input').fill('carol');
  await alice.page.getByRole('button', { name: 'Invite', exact: true }).click();
  await waitIncoming(carol);
  await carol.page.getByRole('button', { name: 'Accept video call' }).click();
  await waitConnected(carol);
  await poll(() => framesOf(alice, 'carol'), (n) => n > 10, 8000);
  await sleep(1500);
  await shot(alice, 'in-call-group');
  await alice.page.getByRole('button', { name: 'Hang up' }).click();
  await bob.page.getByRole('button', { name: 'Hang up' }).click();
  await waitOutcome(carol);
  await alice.page.getByRole('button', { name: 'OK' }).click().catch(() => undefined);

  await alice.page.getByRole('tab', { name: /History/ }).click();
  await sleep(800);
  await shot(alice, 'history');
  // Details of the newest call: where it rang for each person and how it ended (the delivery trace).
  await alice.page.locator('.history-item').first().getByRole('button', { name: /^Details of the call/ }).click();
  await alice.page.getByRole('dialog', { name: 'Call details' }).locator('.trace-step').first().waitFor();
  await shot(alice, 'call-details');
} finally {
  await browser.close();
  await server.close();
}
