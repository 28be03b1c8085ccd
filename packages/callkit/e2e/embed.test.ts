/**
 * The embedding examples in real Chromium: the React app calls the plain page while the plain page
 * carries hostile global CSS (the kit still renders and works: shadow DOM).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { browserSkip, poll, waitConnected, waitIncoming, waitOutcome } from '../../../test/helpers/browser.js';
import { useKitBrowser } from '../../../test/helpers/kit.js';

const HOSTILE = '* { all: unset } div { display: none !important } button { visibility: hidden } video { display: none }';

describe('call kit: embedding examples and hostile CSS', { skip: browserSkip('call kit e2e (embed)'), timeout: 240_000 }, () => {
  const kit = useKitBrowser();

  it('the React example calls the plain example whose page has hostile global CSS', async () => {
    const react = await kit.open('react', 'e_react');
    const plain = await kit.open('plain', 'e_plain', { hostileCss: HOSTILE });
    // The host page is wrecked by its own CSS…
    assert.equal(await plain.page.locator('#counter').isVisible(), false);
    await react.page.getByLabel('User ID').fill('e_plain');
    await react.page.getByRole('button', { name: 'Audio call' }).click();
    // …but the kit's ring screen renders and answers.
    assert.equal(await waitIncoming(plain), 'e_react');
    const accept = plain.page.getByRole('button', { name: 'Accept audio call' });
    const b = await accept.boundingBox();
    assert.ok(b && b.width >= 60 && b.height >= 60, `accept button box ${JSON.stringify(b)}`);
    await accept.click();
    await waitConnected(plain);
    await waitConnected(react);
    await plain.page.getByRole('button', { name: 'Hang up' }).click();
    assert.equal(await waitOutcome(react), 'e_plain hung up');
    // The React app's afterCalling hook ran once the end card closed.
    await poll(() => react.page.locator('#finished').textContent(), (t) => t === '1', 10_000);
    assert.equal(await react.page.locator('#finished').textContent(), '1');
    assert.deepEqual([...react.errors, ...plain.errors], []);
  });
});
