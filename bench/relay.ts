/**
 * The baseline: a bare WebSocket relay with no auth, no state beyond "who is connected", no
 * storage and no validation. Each frame costs one JSON.parse and one JSON.stringify and goes to
 * the user named in `to`. It is the floor any signaling server pays on this machine (sockets,
 * framing, JSON), so OpenCall's numbers are reported as ratios of it, measured in the same run.
 *
 * Run as its own process: `node --import tsx bench/relay.ts`; prints `LISTENING <url>`, stops on
 * SIGTERM. A client connects to `ws://host:port/ws?id=<userId>` and sends `{ to, ... }` frames.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';

const clients = new Map<string, WebSocket>();
const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http, path: '/ws' });

wss.on('connection', (ws, req) => {
  const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
  clients.set(id, ws);
  ws.on('message', (data) => {
    const m = JSON.parse((data as Buffer).toString()) as { to: string };
    const peer = clients.get(m.to);
    if (peer) peer.send(JSON.stringify({ ...m, from: id }));
  });
  ws.on('close', () => {
    if (clients.get(id) === ws) clients.delete(id);
  });
});

http.listen(0, '127.0.0.1', () => {
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  process.stdout.write(`LISTENING http://127.0.0.1:${port}\n`);
});
const stop = (): void => {
  for (const ws of clients.values()) ws.terminate();
  wss.close();
  http.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
// Started by the bench driver with an IPC channel: do not outlive it.
process.on('disconnect', stop);
