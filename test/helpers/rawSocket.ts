/** A raw WebSocket client speaking the wire protocol directly (for bad-input tests). */
import WebSocket from 'ws';
import type { RunningServer } from '@opencall/server';

/** A received frame. */
export type Frame = { type: string; id?: number; ok?: boolean; error?: { code: number; message: string }; data?: unknown; event?: { name: string } & Record<string, unknown> };

/** A connected raw socket with a frame log. */
export interface Raw {
  ws: WebSocket;
  frames: Frame[];
  send(o: unknown): void;
  request(id: number, type: string, data?: unknown): Promise<Frame>;
  next(pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  close(): void;
}

/** Opens a raw socket to the server's /ws. */
export async function rawSocket(server: RunningServer): Promise<Raw> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
  const frames: Frame[] = [];
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  ws.on('message', (d) => {
    const f = JSON.parse((d as Buffer).toString('utf8')) as Frame;
    frames.push(f);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.pred(f)) waiters.splice(i, 1)[0]!.resolve(f);
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
    send: (o) => ws.send(typeof o === 'string' ? o : JSON.stringify(o)),
    request: (id, type, data = {}) => {
      ws.send(JSON.stringify({ v: 1, id, type, data }));
      return next((f) => f.type === 'response' && f.id === id);
    },
    next,
    close: () => ws.close(),
  };
}
