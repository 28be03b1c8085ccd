/**
 * Turns the server's `sfu` option (SPEC §2) into a running driver: `'auto'` starts and supervises
 * a loopback Janus when the binary is installed (else mesh), `{ janusUrl }` drives an existing
 * Janus, `'none'` is mesh. Wires the supervisor's restarts to driver reconnects.
 */
import { JanusProcess } from './JanusProcess.js';
import type { JanusProcessOptions } from './JanusProcess.js';
import { JanusSfu } from './JanusSfu.js';
import type { JanusSfuOptions } from './JanusSfu.js';
import { errorFields, silentLogger } from './types.js';
import type { MediaLogger } from './types.js';

/** The server's `sfu` option. */
export type SfuOption = 'auto' | 'none' | { janusUrl: string; apiSecret?: string | undefined };

/** A connected SFU driver and, in `'auto'` mode, the Janus process behind it. */
export interface RunningSfu {
  sfu: JanusSfu;
  /** The supervised Janus (`'auto'` only). */
  janus: JanusProcess | null;
  /** Janus WebSocket API URL. */
  url: string;
  /** Closes the driver, then stops the supervised Janus (if any). */
  close(): Promise<void>;
}

/** Options for {@link startSfu}. */
export interface StartSfuOptions {
  logger?: MediaLogger;
  driver?: Omit<JanusSfuOptions, 'logger'>;
  process?: Omit<JanusProcessOptions, 'logger'>;
}

/**
 * Starts what `option` asks for. Resolves null for mesh: `'none'`, or `'auto'` without a janus
 * binary or when the local Janus fails to start (logged loudly; calls still work as mesh).
 * Rejects when an explicit `{ janusUrl }` cannot be reached (a configuration error).
 */
export async function startSfu(option: SfuOption, options: StartSfuOptions = {}): Promise<RunningSfu | null> {
  const log = options.logger ?? silentLogger;
  if (option === 'none') return null;
  if (option !== 'auto') {
    const sfu = new JanusSfu({ ...options.driver, ...(option.apiSecret ? { apiSecret: option.apiSecret } : {}), logger: log });
    await sfu.connect(option.janusUrl);
    return { sfu, janus: null, url: option.janusUrl, close: () => sfu.close() };
  }
  if (!JanusProcess.available(options.process?.binary)) {
    log.warn({}, 'sfu: janus is not installed (apt-get install janus); group calls use a mesh');
    return null;
  }
  const janus = new JanusProcess({ ...options.process, logger: log });
  let sfu: JanusSfu | null = null;
  try {
    const ep = await janus.start();
    sfu = new JanusSfu({
      ...options.driver,
      ...(janus.adminKey === undefined ? {} : { adminKey: janus.adminKey }),
      ...(janus.apiSecret === undefined ? {} : { apiSecret: janus.apiSecret }),
      logger: log,
    });
    await sfu.connect(ep.url);
  } catch (err) {
    log.error({ ...errorFields(err) }, 'sfu: local janus failed to start; group calls use a mesh');
    await sfu?.close();
    await janus.stop();
    return null;
  }
  const driver = sfu;
  // The driver also retries the old URL by itself; connecting here covers a restart on new ports.
  janus.on('restarted', (ep) => {
    driver.connect(ep.url).catch((err: unknown) => log.warn({ ...errorFields(err) }, 'sfu: reconnect after janus restart failed'));
  });
  return {
    sfu: driver,
    janus,
    url: janus.url,
    close: async () => {
      await driver.close();
      await janus.stop();
    },
  };
}
