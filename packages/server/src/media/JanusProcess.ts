/**
 * Supervises a loopback-only Janus WebRTC server for the SFU: free ports, a generated config
 * folder (never /etc/janus), readiness by asking its WebSocket API, restart with backoff when it
 * dies, and a clean stop by PID. See MEDIA-NOTES.md "Janus, loopback-only, own config folder".
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { detectJanusLibDir, writeJanusConfig } from './janusConfig.js';
import { JANUS_DIR_PREFIX, dieWithParentPrefix, reapStaleJanus, writeOwner } from './janusOrphans.js';
import { findOnPath, freeTcpPort, releaseUdpRange, reserveUdpRange } from './ports.js';
import { silentLogger } from './types.js';
import type { MediaLogger } from './types.js';

/** Options of {@link JanusProcess}. Every field has a default suited to one server on this machine. */
export interface JanusProcessOptions {
  /** Janus binary name or path. Default `'janus'` (looked up on PATH). */
  binary?: string;
  /** Folder holding Janus's `plugins/`, `transports/`, `events/`, `loggers/`. Default: detected. */
  libDir?: string;
  /** How many RTP/ICE ports Janus may use. Default 200 (each peer connection takes one with BUNDLE). */
  rtpPortCount?: number;
  /** Janus `session_timeout` in seconds. Default 60 (janode sends keep-alives every 30 s). */
  sessionTimeoutSeconds?: number;
  /** Janus `debug_level` 0–7 for its log file. Default 4 (info). */
  debugLevel?: number;
  /** How long to wait for the WebSocket API to answer after spawning. Default 10 000 ms. */
  startTimeoutMs?: number;
  /**
   * Janus `nat.ice_enforce_list` (interfaces/IP prefixes to gather ICE candidates on). Default
   * none: every non-loopback IPv4 interface. Janus 1.1.2 never gathers on loopback (hard-coded
   * skip in ice.c), so "127.0.0.1" here matches nothing and libnice falls back to ALL addresses,
   * IPv6 link-local included: don't.
   */
  iceEnforceList?: string;
  /** Janus `nat.nat_1_1_mapping`: public IP to advertise when behind 1:1 NAT (e.g. a cloud VM). */
  natMapping?: string;
  /** Restart Janus when it exits unexpectedly. Default true. */
  restart?: boolean;
  /**
   * Require a VideoRoom `admin_key` to create rooms (the key is {@link JanusProcess.adminKey}).
   * Default true. False lets any local client create rooms, as a stock Janus does: for a Janus the
   * server reaches through `sfu: { janusUrl }`, which carries no key.
   */
  requireAdminKey?: boolean;
  /** Logger (pino-like). Default: silent. */
  logger?: MediaLogger;
}

/** Where a running Janus can be reached. */
export interface JanusEndpoint {
  /** WebSocket API URL, e.g. `ws://127.0.0.1:41234`. */
  url: string;
  pid: number;
  /** Milliseconds from spawn until the WebSocket API answered. */
  startMs: number;
}

/** Events of {@link JanusProcess}. */
export interface JanusProcessEvents {
  /** Janus exited without `stop()` being called; a restart follows when enabled. */
  exit: [{ code: number | null; signal: NodeJS.Signals | null }];
  /** Janus is running again after an unexpected exit: reconnect the driver to `url`. */
  restarted: [JanusEndpoint];
  /** A restart attempt failed; another follows after `retryInMs`. */
  restartFailed: [{ error: string; retryInMs: number }];
}

const STOP_GRACE_MS = 5000;
const BACKOFF_MS = [250, 500, 1000, 2000, 5000, 10000];

/** Resolves true once the Janus WebSocket API at `url` answers an `info` request (naming `serverName`, if given). */
export function janusAnswers(url: string, timeoutMs = 1000, serverName?: string, apiSecret?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'janus-protocol');
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    ws.on('error', () => done(false));
    ws.on('open', () => ws.send(JSON.stringify({ janus: 'info', transaction: 'ready', ...(apiSecret ? { apisecret: apiSecret } : {}) })));
    ws.on('message', (raw) => {
      const text = Buffer.isBuffer(raw) ? raw.toString() : Array.isArray(raw) ? Buffer.concat(raw).toString() : Buffer.from(raw).toString();
      done(text.includes('"server_info"') && (serverName === undefined || text.includes(`"${serverName}"`)));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A supervised loopback Janus (VideoRoom plugin + WebSocket transport only). */
export class JanusProcess extends EventEmitter<JanusProcessEvents> {
  /** True when a `janus` binary is on PATH. */
  static available(binary = 'janus'): boolean {
    return findOnPath(binary) !== null;
  }

  /** Random key that VideoRoom `create` requests must carry; undefined when `requireAdminKey` is false. */
  readonly adminKey: string | undefined;
  /**
   * Random Janus `api_secret` every API request must carry (undefined when `requireAdminKey` is
   * false): another local process that finds the loopback port cannot drive this Janus.
   */
  readonly apiSecret: string | undefined;
  /** Janus `server_name`, unique per instance: readiness checks only trust our own Janus. */
  readonly #serverName = `OpenCall-${randomBytes(6).toString('hex')}`;
  readonly #opts: Required<Omit<JanusProcessOptions, 'logger' | 'libDir' | 'iceEnforceList' | 'natMapping' | 'requireAdminKey'>> &
    Pick<JanusProcessOptions, 'iceEnforceList' | 'natMapping'> & { libDir: string };
  readonly #log: MediaLogger;
  #dir: string | null = null;
  #wsPort = 0;
  #rtp: { min: number; max: number } | null = null;
  #child: ChildProcess | null = null;
  #endpoint: JanusEndpoint | null = null;
  #stopping = false;
  #restartTimer: NodeJS.Timeout | null = null;
  #failures = 0;
  /** True while #launch spawns/probes: its own failures are retried there, not by #onExit. */
  #launching = false;
  #exitHook = (): void => this.#killNow();

  constructor(options: JanusProcessOptions = {}) {
    super();
    this.adminKey = options.requireAdminKey === false ? undefined : randomBytes(18).toString('base64url');
    this.apiSecret = options.requireAdminKey === false ? undefined : randomBytes(18).toString('base64url');
    this.#log = options.logger ?? silentLogger;
    this.#opts = {
      binary: options.binary ?? 'janus',
      libDir: options.libDir ?? detectJanusLibDir(),
      rtpPortCount: options.rtpPortCount ?? 200,
      sessionTimeoutSeconds: options.sessionTimeoutSeconds ?? 60,
      debugLevel: options.debugLevel ?? 4,
      startTimeoutMs: options.startTimeoutMs ?? 10_000,
      restart: options.restart ?? true,
      iceEnforceList: options.iceEnforceList,
      natMapping: options.natMapping,
    };
  }

  /** WebSocket API URL of the running Janus (throws before `start()`). */
  get url(): string {
    if (!this.#endpoint) throw new Error('janus is not running');
    return this.#endpoint.url;
  }

  /** PID of the running Janus, if any. */
  get pid(): number | undefined {
    return this.#child?.exitCode === null ? this.#child.pid : undefined;
  }

  /** The RTP/ICE port range Janus was given (media from Janus comes from these ports). */
  get rtpPortRange(): { min: number; max: number } | null {
    return this.#rtp ? { ...this.#rtp } : null;
  }

  /** Last endpoint (url, pid, start time). */
  get endpoint(): JanusEndpoint | null {
    return this.#endpoint ? { ...this.#endpoint } : null;
  }

  /** Path of the Janus log file (inside the temp config folder). */
  get logFile(): string | null {
    return this.#dir ? join(this.#dir, 'janus.log') : null;
  }

  /** Picks ports, writes the config and starts Janus; resolves once its WebSocket API answers. */
  async start(): Promise<JanusEndpoint> {
    if (this.#child) throw new Error('janus already started');
    const bin = findOnPath(this.#opts.binary);
    if (!bin) throw new Error(`${this.#opts.binary} not found on PATH (apt-get install janus)`);
    this.#stopping = false;
    // A server killed with SIGKILL may have left its Janus (and ports) behind: clear those first.
    reapStaleJanus(tmpdir(), this.#log);
    this.#dir = mkdtempSync(join(tmpdir(), JANUS_DIR_PREFIX));
    writeOwner(this.#dir);
    process.once('exit', this.#exitHook);
    try {
      return await this.#launch(bin, true);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the temp folder. Safe to call twice. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    await this.#terminate();
    process.removeListener('exit', this.#exitHook);
    this.#releaseRange();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = null;
    this.#endpoint = null;
  }

  /** (Re)picks ports when asked, writes config, spawns and waits for readiness (one retry with new ports). */
  async #launch(bin: string, newPorts: boolean): Promise<JanusEndpoint> {
    this.#launching = true;
    try {
      return await this.#launchAttempts(bin, newPorts);
    } finally {
      this.#launching = false;
    }
  }

  async #launchAttempts(bin: string, newPorts: boolean): Promise<JanusEndpoint> {
    let lastErr: unknown = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.#stopping) throw new Error('janus stopped');
      if (newPorts || attempt > 0) await this.#pickPorts();
      try {
        return await this.#spawnAndWait(bin);
      } catch (err) {
        lastErr = err;
        this.#log.warn({ err: (err as Error).message, attempt, log: this.#tail() }, 'janus did not come up; retrying with new ports');
        await this.#terminate();
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error('janus did not start');
  }

  async #pickPorts(): Promise<void> {
    this.#releaseRange();
    this.#wsPort = await freeTcpPort();
    this.#rtp = await reserveUdpRange(this.#opts.rtpPortCount);
    this.#writeConfig();
  }

  #releaseRange(): void {
    releaseUdpRange(this.#rtp);
    this.#rtp = null;
  }

  #writeConfig(): void {
    writeJanusConfig({
      dir: this.#dir!,
      libDir: this.#opts.libDir,
      wsPort: this.#wsPort,
      rtp: this.#rtp!,
      adminKey: this.adminKey,
      apiSecret: this.apiSecret,
      serverName: this.#serverName,
      debugLevel: this.#opts.debugLevel,
      sessionTimeoutSeconds: this.#opts.sessionTimeoutSeconds,
      iceEnforceList: this.#opts.iceEnforceList,
      natMapping: this.#opts.natMapping,
    });
  }

  async #spawnAndWait(bin: string): Promise<JanusEndpoint> {
    if (this.#stopping) throw new Error('janus stopped');
    const dir = this.#dir!;
    const t0 = performance.now();
    // Janus dies with this process even when it is SIGKILLed (no exit hook runs then).
    const [launcher, ...prefix] = [...dieWithParentPrefix(), bin];
    const child = spawn(launcher, [...prefix, '-C', join(dir, 'janus.jcfg'), '-F', dir, '-L', join(dir, 'janus.log'), '-N'], {
      stdio: 'ignore',
    });
    this.#child = child;
    let exited = false;
    child.once('error', (err) => this.#log.error({ err: err.message }, 'janus spawn failed'));
    child.once('exit', (code, signal) => {
      exited = true;
      this.#onExit(child, code, signal);
    });
    const url = `ws://127.0.0.1:${this.#wsPort}`;
    const deadline = Date.now() + this.#opts.startTimeoutMs;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`janus exited during start-up (code ${child.exitCode})`);
      if (await janusAnswers(url, 500, this.#serverName, this.apiSecret)) {
        const startMs = Math.round(performance.now() - t0);
        this.#endpoint = { url, pid: child.pid ?? 0, startMs };
        this.#log.info({ url, pid: child.pid, startMs, rtp: this.#rtp }, 'janus ready');
        return { ...this.#endpoint };
      }
      await sleep(25);
    }
    throw new Error(`janus did not answer on ${url} within ${this.#opts.startTimeoutMs} ms`);
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#child = null;
    if (this.#stopping || this.#launching) return; // a planned stop, or a failed start retried by #launch
    this.#log.error({ code, signal, log: this.#tail() }, 'janus exited unexpectedly');
    this.emit('exit', { code, signal });
    if (this.#opts.restart) this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    const delay = BACKOFF_MS[Math.min(this.#failures, BACKOFF_MS.length - 1)]!;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null;
      void this.#restart(delay);
    }, delay);
  }

  async #restart(delay: number): Promise<void> {
    if (this.#stopping) return;
    const bin = findOnPath(this.#opts.binary);
    try {
      if (!bin) throw new Error(`${this.#opts.binary} disappeared from PATH`);
      // Same ports first so a configured URL stays valid; #launch moves on to new ports if needed.
      const ep = await this.#launch(bin, false);
      this.#failures = 0;
      this.emit('restarted', ep);
    } catch (err) {
      if (this.#stopping) return;
      this.#failures++;
      const retryInMs = BACKOFF_MS[Math.min(this.#failures, BACKOFF_MS.length - 1)]!;
      this.#log.error({ err: (err as Error).message, retryInMs, previousDelay: delay }, 'janus restart failed');
      this.emit('restartFailed', { error: (err as Error).message, retryInMs });
      this.#scheduleRestart();
    }
  }

  async #terminate(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.#child = null;
      return;
    }
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = await Promise.race([
      gone.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), STOP_GRACE_MS))),
    ]);
    clearTimeout(timer);
    if (!killed) {
      this.#log.warn({ pid: child.pid }, 'janus ignored SIGTERM for 5 s; sending SIGKILL');
      child.kill('SIGKILL');
      await gone;
    }
    if (this.#child === child) this.#child = null;
  }

  /** Last lines of the Janus log, for error reports. */
  #tail(lines = 15): string {
    try {
      return readFileSync(join(this.#dir!, 'janus.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Parent is exiting: never leave an orphan Janus holding ports. */
  #killNow(): void {
    this.#stopping = true;
    try {
      this.#child?.kill('SIGKILL');
    } catch {
      // Already gone.
    }
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
  }
}
