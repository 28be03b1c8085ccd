/** Test helpers for suites that need real programs (janus, turnserver, chromium) and a loopback Janus. */
import { JanusProcess } from '../../packages/server/src/media/JanusProcess.js';
import { findOnPath } from '../../packages/server/src/media/ports.js';
import type { JanusProcessOptions } from '../../packages/server/src/media/JanusProcess.js';

/**
 * True when `name` is on PATH. When it is missing: throws if `CI=true` (the suite must FAIL there:
 * `.ci/run` installs it), else returns false so the test can `t.skip(...)` with a loud message.
 */
export function requireProgram(name: string): boolean {
  if (findOnPath(name)) return true;
  if (process.env.CI === 'true') throw new Error(`${name} is required in CI but not installed (apt-get install ${name === 'turnserver' ? 'coturn' : name})`);
  console.warn(`\n*** ${name} not installed: skipping the tests that need it ***\n`);
  return false;
}

/** A Janus started for a test (loopback only, own config folder and ports). */
export interface TestJanus {
  url: string;
  pid: number;
  /** VideoRoom admin key (pass to JanusSfu); undefined when started with `requireAdminKey: false`. */
  adminKey: string | undefined;
  /** Janus `api_secret` every API session must present (pass to JanusSfu). */
  apiSecret: string | undefined;
  /** Janus's RTP/ICE port range: media coming from Janus uses these ports. */
  rtpPortRange: { min: number; max: number };
  /** Milliseconds until its WebSocket API answered. */
  startMs: number;
  process: JanusProcess;
  stop(): Promise<void>;
}

/** Starts a supervised loopback Janus (restart disabled unless asked) for a test suite. */
export async function startJanus(options: JanusProcessOptions = {}): Promise<TestJanus> {
  const proc = new JanusProcess({ restart: false, debugLevel: 3, rtpPortCount: 100, ...options });
  const ep = await proc.start();
  return {
    url: ep.url,
    pid: ep.pid,
    adminKey: proc.adminKey,
    apiSecret: proc.apiSecret,
    rtpPortRange: proc.rtpPortRange!,
    startMs: ep.startMs,
    process: proc,
    stop: () => proc.stop(),
  };
}
