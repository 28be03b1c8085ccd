/**
 * A UDP impairment proxy on 127.0.0.1 between two peers (there is no `tc netem` on these machines;
 * see MEDIA-NOTES "Impairing real media in tests"). Each peer keeps only its 127.0.0.1 UDP host
 * candidate; the proxy learns each side's real port from those candidates and rewrites the port
 * in the candidate a peer receives to the proxy socket standing in for the other side. Datagrams
 * are forwarded to the real port; STUN (first byte 0 or 1) passes untouched so ICE stays alive,
 * media is dropped and delayed by the configured loss, delay and jitter. `rebind()` moves the
 * stand-in sockets (the old path dies, as after a network change: only an ICE restart recovers),
 * and `blackhole` drops everything.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { isLoopbackCandidate } from '../../packages/client/src/media/sdp.js';
import type { CandidateInfo } from '@opencall/client/node';

/** What happens to media datagrams, each way. */
export interface Impairment {
  /** Percent of media datagrams dropped. */
  lossPct: number;
  /** Added one-way delay, ms. */
  delayMs: number;
  /** ± uniform jitter on the delay, ms. */
  jitterMs: number;
  /** Drop everything, STUN included. */
  blackhole?: boolean;
}

const CLEAN: Impairment = { lossPct: 0, delayMs: 0, jitterMs: 0 };

interface Side {
  /** The peer's real port (from its local candidate), 0 until known. */
  realPort: number;
  /** The socket that stands in for this peer towards the other one. */
  standIn: Socket;
}

function bind(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

/** The proxy between exactly two users. */
export class UdpImpairmentProxy {
  readonly #sides = new Map<string, Side>();
  readonly #users: [string, string];
  #impairment: Impairment = CLEAN;
  /** Datagrams forwarded / dropped (diagnostics). */
  readonly counts = { forwarded: 0, dropped: 0 };

  private constructor(users: [string, string]) {
    this.#users = users;
  }

  /** Creates a proxy for the call between `a` and `b`. */
  static async create(a: string, b: string): Promise<UdpImpairmentProxy> {
    const p = new UdpImpairmentProxy([a, b]);
    for (const u of [a, b]) p.#sides.set(u, { realPort: 0, standIn: await p.#standIn(u) });
    return p;
  }

  /** Sets the impairment (both directions). */
  set(impairment: Partial<Impairment>): void {
    this.#impairment = { ...CLEAN, ...impairment };
  }

  /** The candidate hook for `userId`'s media (`createNodeMedia({ rewriteCandidate })`). */
  hookFor(userId: string): (candidate: string, info: CandidateInfo) => string | null {
    return (candidate, info) => {
      if (!isLoopbackCandidate(candidate) || !/ typ host/.test(candidate)) return null;
      const f = candidate.split(' ');
      if (info.direction === 'local') {
        this.#side(userId).realPort = Number(f[5]);
        return candidate;
      }
      f[5] = String(this.#port(info.peer));
      return f.join(' ');
    };
  }

  /** Replaces both stand-in sockets: every path through the old ones is dead from now on. */
  async rebind(): Promise<void> {
    for (const u of this.#users) {
      const side = this.#side(u);
      side.standIn.close();
      side.standIn = await this.#standIn(u);
    }
  }

  /** Closes the sockets. */
  close(): void {
    for (const s of this.#sides.values()) s.standIn.close();
  }

  #side(userId: string): Side {
    const s = this.#sides.get(userId);
    if (!s) throw new Error(`${userId} is not on this proxy`);
    return s;
  }

  #port(userId: string): number {
    return (this.#side(userId).standIn.address() as { port: number }).port;
  }

  /** A socket standing in for `userId`: what arrives on it goes to the other user's real port. */
  async #standIn(userId: string): Promise<Socket> {
    const sock = await bind();
    const other = this.#users[0] === userId ? this.#users[1] : this.#users[0];
    sock.on('message', (msg) => {
      // Arrives from the other user, for `userId`: deliver to userId's real port, sent from the
      // socket standing in for the sender so userId sees the address it was told for them.
      const target = this.#sides.get(userId);
      const sender = this.#sides.get(other);
      if (!target || !sender || target.realPort === 0) return;
      this.#forward(msg, sender.standIn, target.realPort);
    });
    sock.on('error', () => undefined);
    return sock;
  }

  #forward(msg: Buffer, via: Socket, port: number): void {
    const imp = this.#impairment;
    const stun = msg.length > 0 && (msg[0] === 0 || msg[0] === 1);
    if (imp.blackhole || (!stun && Math.random() * 100 < imp.lossPct)) {
      this.counts.dropped++;
      return;
    }
    this.counts.forwarded++;
    const delay = stun ? 0 : Math.max(0, imp.delayMs + (Math.random() * 2 - 1) * imp.jitterMs);
    const send = (): void => {
      try {
        via.send(msg, port, '127.0.0.1');
      } catch {
        // The socket was rebound meanwhile: the datagram is lost, as on a real network change.
      }
    };
    if (delay === 0) send();
    else setTimeout(send, delay);
  }
}
