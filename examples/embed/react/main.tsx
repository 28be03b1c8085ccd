/**
 * A React app with calling: `<CallKitView>` mounts the kit; the rest is ordinary React state.
 * Signs in as `?user=<id>` with a development UserSig (your backend signs it in production).
 * `window.kit` is exposed for the end-to-end tests.
 */
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { CallMediaType } from '@opencall/callkit';
import { CallKitView } from '@opencall/callkit/react';
import type { CallKit } from '@opencall/callkit/react';

const userId = new URLSearchParams(location.search).get('user') ?? 'guest';

async function signIn(kit: CallKit): Promise<void> {
  const { userSig } = (await (await fetch('/dev/usersig', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) })).json()) as { userSig: string };
  await kit.init({ userId, userSig });
}

function App({ sdkAppId }: { sdkAppId: number }): React.ReactElement {
  const [kit, setKit] = useState<CallKit | null>(null);
  const [callee, setCallee] = useState('');
  const [calls, setCalls] = useState(0);
  return (
    <main style={{ fontFamily: 'sans-serif', maxWidth: 560, margin: '2rem auto' }}>
      <h1>React + OpenCall</h1>
      <p>{kit ? `Signed in as ${userId}` : 'Connecting…'}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void kit?.calls([callee], CallMediaType.audio);
        }}
      >
        <label htmlFor="callee">User ID </label>
        <input id="callee" value={callee} onChange={(e) => setCallee(e.target.value)} />
        <button type="submit" disabled={!kit}>Audio call</button>
      </form>
      <p>Calls finished: <output id="finished">{calls}</output></p>
      <CallKitView
        options={{ serverUrl: location.origin, sdkAppId, afterCalling: () => setCalls((n) => n + 1) }}
        onReady={(k) => {
          Object.assign(window, { kit: k });
          void signIn(k).then(() => setKit(k));
        }}
      />
    </main>
  );
}

const { sdkAppId } = (await (await fetch('/config.json')).json()) as { sdkAppId: number };
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App sdkAppId={sdkAppId} />
  </StrictMode>,
);
