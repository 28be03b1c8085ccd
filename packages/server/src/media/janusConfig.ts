/**
 * The config folder JanusProcess generates for its Janus (never /etc/janus): only the VideoRoom
 * plugin and the WebSocket transport load, the API binds 127.0.0.1, no event handlers/loggers.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What goes into a generated Janus config folder. */
export interface JanusConfig {
  /** The folder (janus.jcfg and the plugin/transport files are written here). */
  dir: string;
  /** Folder holding `plugins/`, `transports/`, `events/`, `loggers/`. */
  libDir: string;
  wsPort: number;
  rtp: { min: number; max: number };
  /** Janus `api_secret`: every API request must carry it (undefined: none, as a stock Janus). */
  apiSecret?: string | undefined;
  /** VideoRoom admin key; undefined: rooms can be created without one. */
  adminKey: string | undefined;
  /** Reported by Janus's `info` request: lets the supervisor tell its Janus from any other. */
  serverName: string;
  debugLevel: number;
  sessionTimeoutSeconds: number;
  iceEnforceList?: string | undefined;
  natMapping?: string | undefined;
}

/** Janus's module folder of the Debian/Ubuntu package (or a source install), by architecture. */
export function detectJanusLibDir(): string {
  const triplet = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const dirs = [`/usr/lib/${triplet}/janus`, '/usr/lib/janus', '/usr/local/lib/janus', '/opt/janus/lib/janus'];
  return dirs.find((d) => existsSync(join(d, 'plugins', 'libjanus_videoroom.so'))) ?? dirs[0]!;
}

/** Comma list of every `.so` in `dir` except `keep` (Janus loads only names ending in `.so`). */
function disableAllBut(dir: string, keep: string[]): string {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.so') && !keep.includes(n));
  } catch {
    // Missing folder: nothing to disable.
  }
  return names.join(',');
}

/** Writes janus.jcfg, janus.transport.websockets.jcfg and janus.plugin.videoroom.jcfg into `c.dir`. */
export function writeJanusConfig(c: JanusConfig): void {
  const lib = c.libDir;
  // No ice_enforce_list by default: Janus 1.1.2 skips loopback interfaces when gathering, so
  // "127.0.0.1" matches nothing and libnice then gathers on every address (IPv6 included).
  const nat = [
    'nice_debug = false',
    'ignore_mdns = true',
    ...(c.iceEnforceList ? [`ice_enforce_list = "${c.iceEnforceList}"`] : []),
    ...(c.natMapping ? [`nat_1_1_mapping = "${c.natMapping}"`] : []),
  ];
  const janusCfg = `general: {
  configs_folder = "${c.dir}"
  plugins_folder = "${lib}/plugins"
  transports_folder = "${lib}/transports"
  events_folder = "${lib}/events"
  loggers_folder = "${lib}/loggers"
  log_to_stdout = false
  debug_level = ${c.debugLevel}
  debug_timestamps = true
  debug_colors = false
  interface = "127.0.0.1"
  server_name = "${c.serverName}"
  session_timeout = ${c.sessionTimeoutSeconds}
  reclaim_session_timeout = 0
  hide_dependencies = true
${c.apiSecret === undefined ? '' : `  api_secret = "${c.apiSecret}"\n`}}
media: {
  rtp_port_range = "${c.rtp.min}-${c.rtp.max}"
}
nat: {
${nat.map((l) => `  ${l}`).join('\n')}
}
plugins: {
  disable = "${disableAllBut(`${lib}/plugins`, ['libjanus_videoroom.so'])}"
}
transports: {
  disable = "${disableAllBut(`${lib}/transports`, ['libjanus_websockets.so'])}"
}
loggers: {
  disable = "${disableAllBut(`${lib}/loggers`, [])}"
}
events: {
  broadcast = false
  disable = "${disableAllBut(`${lib}/events`, [])}"
}
`;
  // ws_ip: without it the API (which can create rooms) binds 0.0.0.0.
  const wsCfg = `general: {
  json = "plain"
  ws = true
  ws_port = ${c.wsPort}
  ws_ip = "127.0.0.1"
  wss = false
  ws_logging = "err,warn"
}
admin: {
  admin_ws = false
  admin_wss = false
}
`;
  // No rooms in the file: the driver creates one per call with its own secret.
  const roomCfg = `general: {
${c.adminKey === undefined ? '' : `  admin_key = "${c.adminKey}"\n`}  lock_rtp_forward = true
  string_ids = false
}
`;
  writeFileSync(join(c.dir, 'janus.jcfg'), janusCfg);
  writeFileSync(join(c.dir, 'janus.transport.websockets.jcfg'), wsCfg);
  writeFileSync(join(c.dir, 'janus.plugin.videoroom.jcfg'), roomCfg);
}
