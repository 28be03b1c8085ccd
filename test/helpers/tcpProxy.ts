/**
 * A tiny loopback TCP proxy in front of a test server, so a test can break a client's network the
 * way the real world does — without touching engine internals. Point a CallEngine's `serverUrl`
 * at `proxy.url`; then:
 * - `sever()`: every open connection is cut (the client sees its socket close) and new ones are
 *   refused until `restore()` (the client keeps retrying);
 * - `blackhole()`: connections stay open but nothing gets through either way, and new ones hang
 *   (a pulled cable or a sleeping laptop: only heartbeats notice);
 * - `pause()`: connections stay open and nothing is lost, but no byte moves either way until
 *   `resume()` (a stalled database or a long GC pause on the far side: the client's queries hang
 *   mid-transaction, then complete); new connections are accepted and held the same way;
 * - `deafAfter(marker)`: the first connection that sends bytes containing `marker` keeps sending,
 *   but from then on hears nothing back (a database whose answer to one statement is lost: the
 *   statement runs, its sender never learns); `deafened` says when that happened;
 * - `restore()`: cut whatever the outage left behind (a stream that lost bytes is unusable) and
 *   let new connections through again.
 */
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with traffic right now. */
export type ProxyMode = 'pass' | 'refuse' | 'blackhole' | 'pause';

/** A running proxy. */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: use as the engine's serverUrl. */
  readonly url: string;
  readonly port: number;
  /** Current mode. */
  readonly mode: ProxyMode;
  /** Connections accepted since start (each reconnection attempt is one). */
  readonly accepted: number;
  /** Cuts every connection now and refuses new ones until {@link restore}. */
  sever(): void;
  /** Keeps connections open but drops all bytes; new connections hang. */
  blackhole(): void;
  /** Holds every byte both ways (nothing dropped) until {@link resume}; new connections are held too. */
  pause(): void;
  /** Ends a pause: what was held flows on, in order. */
  resume(): void;
  /** Arms the one-shot deafness described above; it stays until {@link restore}. */
  deafAfter(marker: string): void;
  /** Connections made deaf by {@link deafAfter} so far. */
  readonly deafened: number;
  /** Ends the outage: leftover connections are cut, new ones pass. */
  restore(): void;
  /** New connections go to `port` from now on (a load balancer sending a client to another node). */
  retarget(port: number): void;
  /** Stops listening and cuts everything. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | null;
  /** False once this pair stopped forwarding (blackholed). */
  live: boolean;
  /** True once `deafAfter` picked this pair: nothing flows back to the client any more. */
  deaf?: boolean;
}

/** Starts a proxy on a free loopback port forwarding to `targetHost:targetPort` (default host 127.0.0.1). */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  let accepted = 0;
  let target = targetPort;
  const pairs = new Set<Pair>();
  let deafMarker: Buffer | null = null;
  let deafened = 0;

  const destroy = (p: Pair): void => {
    pairs.delete(p);
    p.client.destroy();
    p.upstream?.destroy();
  };
  // Paused sockets are not read: the bytes wait in the kernel's buffers (TCP back-pressure) and
  // arrive intact, in order, once reading resumes.
  const hold = (p: Pair, held: boolean): void => {
    for (const s of [p.client, p.upstream]) {
      if (held) s?.pause();
      else s?.resume();
    }
  };

  const server = net.createServer((client) => {
    accepted++;
    const pair: Pair = { client, upstream: null, live: mode === 'pass' || mode === 'pause' };
    pairs.add(pair);
    client.on('error', () => destroy(pair));
    client.on('close', () => destroy(pair));
    if (mode === 'refuse') return destroy(pair);
    // Blackholed connections are read and discarded so the client's writes never back up.
    client.on('data', (d: Buffer) => {
      // The marked bytes still go up; only what comes back after them is lost.
      if (pair.live && deafMarker && d.includes(deafMarker)) {
        deafMarker = null;
        deafened++;
        pair.deaf = true;
      }
      if (pair.live) pair.upstream?.write(d);
    });
    if (mode === 'blackhole') return;
    const upstream = net.connect(target, targetHost);
    pair.upstream = upstream;
    upstream.on('data', (d: Buffer) => {
      if (pair.live && !pair.deaf) client.write(d);
    });
    upstream.on('error', () => destroy(pair));
    upstream.on('close', () => destroy(pair));
    if (mode === 'pause') hold(pair, true);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    get deafened() {
      return deafened;
    },
    deafAfter(marker: string) {
      deafMarker = Buffer.from(marker);
    },
    sever() {
      mode = 'refuse';
      for (const p of [...pairs]) destroy(p);
    },
    blackhole() {
      mode = 'blackhole';
      for (const p of pairs) p.live = false;
    },
    pause() {
      mode = 'pause';
      for (const p of pairs) if (p.live) hold(p, true);
    },
    resume() {
      if (mode !== 'pause') return;
      mode = 'pass';
      for (const p of pairs) if (p.live) hold(p, false);
    },
    restore() {
      deafMarker = null;
      for (const p of [...pairs]) if (!p.live || p.deaf) destroy(p);
      if (mode === 'pause') for (const p of pairs) hold(p, false);
      mode = 'pass';
    },
    retarget(port: number) {
      target = port;
    },
    close() {
      mode = 'refuse';
      for (const p of [...pairs]) destroy(p);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
