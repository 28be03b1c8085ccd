/** A raw WebSocket client speaking the wire protocol directly (for bad-input tests). */
import WebSocket from 'ws';
import type { RunningServer } from '@opencall/server';
import { TEST_APP_ID, sig } from './server.js';

/** A received frame. */
export type Frame = { type: string; id?: number; ok?: boolean; error?: { code: number; message: string }; data?: unknown; event?: { name: string } & Record<string, unknown> };

/** The messages of one server frame: itself, or the items of a `batch` frame. */
export function messagesOf(text: string): Frame[] {
  const f = JSON.parse(text) as Frame & { m?: Frame[] };
  return f.type === 'batch' ? (f.m ?? []) : [f];
}

/** A connected raw socket with a frame log. */
export interface Raw {
  ws: WebSocket;
  /** Every message received, in order (the items of a batch frame one by one). */
  frames: Frame[];
  /** Every WebSocket frame received, as text (a batch is one). */
  texts: string[];
  send(o: unknown): void;
  request(id: number, type: string, data?: unknown): Promise<Frame>;
  next(pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  close(): void;
}

/** Opens a raw socket to the server's /ws. */
export async function rawSocket(server: RunningServer): Promise<Raw> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
  const frames: Frame[] = [];
  const texts: string[] = [];
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  ws.on('message', (d) => {
    // A batch frame carries several messages in order: each is logged as if it came alone.
    const text = (d as Buffer).toString('utf8');
    texts.push(text);
    for (const f of messagesOf(text)) {
      frames.push(f);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.pred(f)) waiters.splice(i, 1)[0]!.resolve(f);
      }
    }
  });
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  const next = (pred: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame> => {
    const found = frames.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no matching frame')), timeoutMs);
      waiters.push({ pred, resolve: (f) => (clearTimeout(t), resolve(f)) });
    });
  };
  return {
    ws,
    frames,
    texts,
    send: (o) => ws.send(typeof o === 'string' ? o : JSON.stringify(o)),
    request: (id, type, data = {}) => {
      ws.send(JSON.stringify({ v: 1, id, type, data }));
      return next((f) => f.type === 'response' && f.id === id);
    },
    next,
    close: () => ws.close(),
  };
}

/** A raw socket signed in as `userId` on device `dev_<userId>` (request id 1); throws if refused. */
export async function signedInRaw(server: RunningServer, userId: string): Promise<Raw> {
  const r = await rawSocket(server);
  const res = await r.request(1, 'auth', { sdkAppId: TEST_APP_ID, userId, userSig: sig(userId), deviceId: `dev_${userId}` });
  if (res.ok !== true) throw new Error(`sign-in of ${userId} refused: ${JSON.stringify(res.error)}`);
  return r;
}
