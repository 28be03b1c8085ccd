/**
 * The call kit's accessibility in real Chromium: an axe-core check of every kit screen, the
 * preview and the picture-in-picture window included (no serious or critical violation), and a
 * whole call operated with the keyboard only.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { browserSkip, poll, waitConnected, waitIncoming, waitOutcome } from '../../../test/helpers/browser.js';
import { useKitBrowser } from '../../../test/helpers/kit.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** Serious and critical axe violations inside the kit, as "rule: target" lines. */
async function axeKit(page: Page, screen: string, root = 'opencall-callkit'): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  // axe's checks move the focus; a keyboard user's focus is put back where it was.
  const found = await page.evaluate(async (include) => {
    let focused: Element | null = document.activeElement;
    while (focused?.shadowRoot?.activeElement) focused = focused.shadowRoot.activeElement;
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run({ include: [[include]] }, { resultTypes: ['violations'] });
    (focused as HTMLElement | null)?.focus();
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`);
  }, root);
  return found.map((f) => `${screen}: ${f}`);
}

/** The deep focused element's accessible name (through the kit's shadow root). */
function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    let el: Element | null = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    const label = el instanceof HTMLInputElement ? el.labels?.[0]?.textContent : null;
    return el?.getAttribute('aria-label') ?? label ?? el?.textContent?.trim() ?? '';
  });
}

/** Presses `key` until the focused control is named `name` (at most 20 presses). */
async function tabTo(page: Page, name: string, key = 'Tab'): Promise<void> {
  const trail: string[] = [];
  for (let i = 0; i < 20; i++) {
    const now = await focusedName(page);
    if (now === name) return;
    trail.push(now.slice(0, 30));
    await page.keyboard.press(key);
  }
  assert.fail(`could not reach "${name}" with ${key}; focus went ${JSON.stringify(trail)}`);
}

describe('call kit: accessibility and keyboard', { skip: browserSkip('call kit e2e (embed)'), timeout: 240_000 }, () => {
  const kit = useKitBrowser();

  it('every kit screen passes axe (no serious or critical violations) and a whole call works by keyboard only', async () => {
    const alice = await kit.open('plain', 'a_alice', { viewport: { width: 1280, height: 800 } });
    const bob = await kit.open('plain', 'a_bob');
    const violations: string[] = [];

    // Alice dials with the keyboard: Tab to the host page's field, type, Enter submits. Her kit
    // previews camera and microphone first; Start has the focus, so Enter places the call.
    await alice.page.evaluate(() => (window as unknown as { kit: { enablePreview(on: boolean): void } }).kit.enablePreview(true));
    await tabTo(alice.page, 'User ID');
    await alice.page.keyboard.type('a_bob');
    await alice.page.keyboard.press('Enter');
    await alice.page.locator('opencall-callkit .call[data-phase="preview"]').waitFor();
    violations.push(...(await axeKit(alice.page, 'preview')));
    assert.equal(await focusedName(alice.page), 'Start the video call');
    await alice.page.keyboard.press('Enter');
    await alice.page.locator('opencall-callkit .call[data-phase="outgoing"]').waitFor();
    violations.push(...(await axeKit(alice.page, 'calling')));
    await waitIncoming(bob);
    violations.push(...(await axeKit(bob.page, 'incoming')));
    // The ring screen focuses Accept: Enter answers.
    assert.equal(await focusedName(bob.page), 'Accept video call');
    await bob.page.keyboard.press('Enter');
    await waitConnected(alice);
    await waitConnected(bob);
    violations.push(...(await axeKit(alice.page, 'in call (desktop)')), ...(await axeKit(bob.page, 'in call (phone)')));

    // Bob mutes by keyboard; Alice sees it.
    await tabTo(bob.page, 'Mute microphone', 'Shift+Tab');
    await bob.page.keyboard.press('Space');
    await alice.page.locator('opencall-callkit .tile[data-user="a_bob"][data-muted="true"]').waitFor();
    // The device menu opens and closes by keyboard (Escape closes the dialog).
    await tabTo(bob.page, 'Devices: microphone, camera and speaker');
    await bob.page.keyboard.press('Enter');
    await bob.page.locator('opencall-callkit dialog.devices[open]').waitFor();
    await poll(() => bob.page.locator('opencall-callkit #device-camera option').count(), (n) => n > 0);
    violations.push(...(await axeKit(bob.page, 'device menu')));
    await bob.page.keyboard.press('Escape');
    await bob.page.locator('opencall-callkit dialog.devices[open]').waitFor({ state: 'detached' });
    // Alice opens the invite dialog and cancels it, then floats the call and brings it back.
    await tabTo(alice.page, 'Add people to the call', 'Shift+Tab');
    await alice.page.keyboard.press('Enter');
    await alice.page.locator('opencall-callkit dialog.sheet[open]').waitFor();
    violations.push(...(await axeKit(alice.page, 'invite')));
    await alice.page.keyboard.press('Escape');
    await alice.page.evaluate(() => (window as unknown as { kit: { minimise(m?: boolean): void } }).kit.minimise());
    await alice.page.locator('opencall-callkit .kit[data-mode="float"]').waitFor();
    violations.push(...(await axeKit(alice.page, 'floating window')));
    await tabTo(alice.page, 'Return to the full call screen');
    await alice.page.keyboard.press('Enter');
    await alice.page.locator('opencall-callkit .kit[data-mode="full"]').waitFor();
    // The picture-in-picture window, opened and closed by keyboard (a key press is a user activation).
    await tabTo(alice.page, 'Open the call in a picture-in-picture window', 'Shift+Tab');
    const opened = alice.context.waitForEvent('page', { timeout: 15_000 });
    await alice.page.keyboard.press('Enter');
    const pip = await opened;
    await pip.locator('[data-opencall-pip] .kit[data-mode="pip"]').waitFor();
    violations.push(...(await axeKit(pip, 'picture-in-picture window', '[data-opencall-pip]')));
    assert.equal(await focusedName(pip), 'Hang up', 'the window focuses Hang up');
    await tabTo(pip, 'Return to the full call screen');
    // Enter acts on key down; the window is gone before a key up could reach it.
    const closed = pip.waitForEvent('close', { timeout: 15_000 });
    await pip.keyboard.down('Enter');
    await closed;
    await alice.page.locator('opencall-callkit .kit[data-mode="full"]').waitFor();

    // Hang up by keyboard: the call screen focuses Hang up after a screen change.
    await tabTo(alice.page, 'Hang up');
    await alice.page.keyboard.press('Enter');
    assert.equal(await waitOutcome(bob), 'a_alice hung up');
    assert.equal(await waitOutcome(alice), 'Call ended');
    violations.push(...(await axeKit(alice.page, 'outcome')));
    assert.deepEqual(violations, []);
    assert.deepEqual([...alice.errors, ...bob.errors], []);
  });
});
