/**
 * The single-node system under test: one server process on a SQLite file, killed with SIGKILL and
 * started again on the same file and port by the fault injector.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerOptions } from '@opencall/server';
import { startServerProcess } from '../test/helpers/processServer.js';
import type { ProcessServer } from '../test/helpers/processServer.js';

/** A system the chaos run drives: where clients connect, how to crash it, how to stop it. */
export interface SystemUnderTest {
  /** Port clients' proxies forward to. */
  readonly port: number;
  /** Base URL for REST (any live node). */
  readonly restUrl: string;
  /** Crashes (SIGKILL) the server or one node and starts it again after `downMs`. */
  kill(downMs: number): Promise<void>;
  /** Pauses database connections (cluster mode; see ClusterSystem). */
  pauseDb?(ms: number): Promise<string>;
  /** Pauses Redis connections (cluster mode; see ClusterSystem). */
  pauseRedis?(ms: number): Promise<string>;
  /** SIGSTOPs a node for a while (cluster mode; see ClusterSystem). */
  stallNode?(ms: number): Promise<string | null>;
  /** Stops everything it started and removes its data. */
  dispose(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A loaded CI machine can take tens of seconds to start a TypeScript process. */
const START_TIMEOUT_MS = 90_000;

/** One server process on one SQLite file. */
export class SingleNode implements SystemUnderTest {
  #proc!: ProcessServer;
  readonly #dir = mkdtempSync(join(tmpdir(), 'opencall-chaos-'));
  #port = 0;

  private constructor(private readonly options: ServerOptions) {}

  /** Starts the server on a free port. */
  static async start(options: ServerOptions): Promise<SingleNode> {
    const node = new SingleNode(options);
    node.#proc = await startServerProcess(node.#options(0), START_TIMEOUT_MS);
    node.#port = node.#proc.port;
    return node;
  }

  get port(): number {
    return this.#port;
  }

  get restUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async kill(downMs: number): Promise<void> {
    await this.#proc.kill();
    await sleep(downMs);
    // The port may still be held for a moment after the kill: retry the start briefly.
    for (let i = 0; ; i++) {
      try {
        this.#proc = await startServerProcess(this.#options(this.#port), START_TIMEOUT_MS);
        return;
      } catch (err) {
        if (i >= 20) throw err;
        await sleep(250);
      }
    }
  }

  async dispose(): Promise<void> {
    const c = this.#proc.child;
    if (c.exitCode === null && c.signalCode === null) await this.#proc.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #options(port: number): ServerOptions {
    return { ...this.options, storage: join(this.#dir, 'opencall.db'), port, host: '127.0.0.1' };
  }
}
