/**
 * A plain page gains calling: the ten lines between the markers are all it takes. The page signs
 * in as `?user=<id>`, with a UserSig from the server's development endpoint (in production your
 * backend signs it). `window.kit` is exposed for the end-to-end tests.
 */
import { CallKit, CallMediaType } from '@opencall/callkit';

const userId = new URLSearchParams(location.search).get('user') ?? 'guest';
const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) };
// --- calling in ten lines ---
const { sdkAppId } = (await (await fetch('/config.json')).json()) as { sdkAppId: number };
const { userSig } = (await (await fetch('/dev/usersig', post)).json()) as { userSig: string };
const kit = await CallKit.mount(document.body, { serverUrl: location.origin, sdkAppId });
await kit.init({ userId, userSig });
kit.enableFloatWindow(true);
document.querySelector('#call-form')?.addEventListener('submit', (e) => {
  e.preventDefault();
  void kit.calls([document.querySelector<HTMLInputElement>('#callee')?.value ?? ''], CallMediaType.video);
});
// --- end ---

let clicks = 0;
document.querySelector('#counter')?.addEventListener('click', () => (document.querySelector('#clicks')!.textContent = String(++clicks)));
document.querySelector('#me')!.textContent = userId;
Object.assign(window, { kit });
