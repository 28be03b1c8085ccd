/**
 * A desktop notification server for Chromium, so a test can click a notification for real.
 *
 * On Linux, Chromium shows web notifications through the freedesktop notification service on the
 * D-Bus session bus when one is there, and turns the service's `ActionInvoked` signal into the
 * service worker's `notificationclick` — with the user-activation that `clients.openWindow`
 * requires (a `notificationclick` dispatched by script has none, so "open the app" cannot be tested
 * that way). This helper runs a private `dbus-daemon` (by PID, stopped by `close`) and a minimal
 * `org.freedesktop.Notifications` on it; a browser started with `DBUS_SESSION_BUS_ADDRESS` set to
 * {@link NotificationDaemon.address} sends its notifications here, and {@link NotificationDaemon.click}
 * presses a button or the notification body as a person would.
 *
 * Chromium routes the click to the profile the notification came from; Playwright's
 * `browser.newContext()` profiles are not found that way, so use `launchPersistentContext`.
 *
 * Missing dbus-daemon: with CI=true the suite fails (see {@link notificationSkip}), otherwise it is skipped.
 * @packageDocumentation
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import dbus from 'dbus-next';

/** The session bus daemon binary (override with DBUS_DAEMON_PATH). */
export const DBUS_DAEMON = process.env.DBUS_DAEMON_PATH ?? '/usr/bin/dbus-daemon';

/** The `skip` option of a suite that needs dbus-daemon: skipped outside CI when missing, never under CI. */
export function notificationSkip(suite: string): string | false {
  if (existsSync(DBUS_DAEMON) || process.env.CI === 'true') return false;
  const reason = `SKIPPED ${suite}: no dbus-daemon at ${DBUS_DAEMON} (apt-get install dbus-daemon; CI=true makes this a failure)`;
  console.warn(`\n${reason}\n`);
  return reason;
}

/** A notification as Chromium handed it to the service. */
export interface DesktopNotification {
  id: number;
  summary: string;
  body: string;
  /** Buttons and the body action, as `{ key, label }` (Chromium: `0`, `1`… for buttons, `default` for the body). */
  actions: { key: string; label: string }[];
  closed: boolean;
}

const { Interface } = dbus.interface;

/** `org.freedesktop.Notifications`, just what Chromium calls. */
class NotificationsInterface extends Interface {
  readonly shown: DesktopNotification[] = [];
  #next = 1;
  #listeners = new Set<() => void>();

  GetCapabilities(): string[] {
    return ['actions', 'body', 'persistence'];
  }

  GetServerInformation(): string[] {
    return ['opencall-test', 'opencall', '1', '1.2'];
  }

  Notify(_app: string, replaces: number, _icon: string, summary: string, body: string, actions: string[]): number {
    const id = replaces || this.#next++;
    const pairs: { key: string; label: string }[] = [];
    for (let i = 0; i + 1 < actions.length; i += 2) pairs.push({ key: actions[i]!, label: actions[i + 1]! });
    const note = { id, summary, body, actions: pairs, closed: false };
    const at = this.shown.findIndex((n) => n.id === id);
    if (at >= 0) this.shown[at] = note;
    else this.shown.push(note);
    for (const l of this.#listeners) l();
    return id;
  }

  CloseNotification(id: number): void {
    const n = this.shown.find((x) => x.id === id);
    if (n) n.closed = true;
    for (const l of this.#listeners) l();
  }

  /** Signal (wrapped by configureMembers): a button or the body was pressed. */
  ActionInvoked(id: number, key: string): [number, string] {
    return [id, key];
  }

  /** Signal: the notification went away (reason 2 = dismissed by the user). */
  NotificationClosed(id: number, reason: number): [number, number] {
    return [id, reason];
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

NotificationsInterface.configureMembers({
  methods: {
    GetCapabilities: { inSignature: '', outSignature: 'as' },
    GetServerInformation: { inSignature: '', outSignature: 'ssss' },
    Notify: { inSignature: 'susssasa{sv}i', outSignature: 'u' },
    CloseNotification: { inSignature: 'u', outSignature: '' },
  },
  signals: {
    ActionInvoked: { signature: 'us' },
    NotificationClosed: { signature: 'uu' },
  },
});

/** A private session bus with a notification server on it. */
export class NotificationDaemon {
  /** `DBUS_SESSION_BUS_ADDRESS` for the browser. */
  readonly address: string;
  readonly #daemon: ChildProcess;
  readonly #bus: dbus.MessageBus;
  readonly #iface: NotificationsInterface;

  private constructor(address: string, daemon: ChildProcess, bus: dbus.MessageBus, iface: NotificationsInterface) {
    this.address = address;
    this.#daemon = daemon;
    this.#bus = bus;
    this.#iface = iface;
  }

  /** Starts dbus-daemon and claims `org.freedesktop.Notifications` on it. */
  static async start(): Promise<NotificationDaemon> {
    const daemon = spawn(DBUS_DAEMON, ['--session', '--nofork', '--nopidfile', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error('dbus-daemon printed no address within 10 s')), 10_000);
      daemon.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n') && line) {
          clearTimeout(t);
          resolve(line.trim());
        }
      });
      daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
    });
    const bus = dbus.sessionBus({ busAddress: address });
    const iface = new NotificationsInterface('org.freedesktop.Notifications');
    bus.export('/org/freedesktop/Notifications', iface);
    await bus.requestName('org.freedesktop.Notifications', 0);
    return new NotificationDaemon(address, daemon, bus, iface);
  }

  /** Every notification shown so far (replaced ones in place). */
  get shown(): readonly DesktopNotification[] {
    return this.#iface.shown;
  }

  /** Waits for a notification `pred` accepts. */
  waitFor(pred: (n: DesktopNotification) => boolean, timeoutMs = 15_000): Promise<DesktopNotification> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const n = this.#iface.shown.find(pred);
        if (!n) return false;
        stop();
        clearTimeout(t);
        resolve(n);
        return true;
      };
      const stop = this.#iface.onChange(check);
      const t = setTimeout(() => {
        stop();
        reject(new Error(`no such notification within ${timeoutMs} ms; shown: ${JSON.stringify(this.#iface.shown)}`));
      }, timeoutMs);
      check();
    });
  }

  /** Presses the button labelled `label` of notification `id` (as a person clicking it). */
  click(id: number, label: string): void {
    const n = this.#iface.shown.find((x) => x.id === id);
    const action = n?.actions.find((a) => a.label === label);
    if (!action) throw new Error(`notification ${id} has no "${label}" action: ${JSON.stringify(n?.actions)}`);
    this.#iface.ActionInvoked(id, action.key);
  }

  /** Disconnects and stops the daemon (by its PID). */
  async close(): Promise<void> {
    this.#bus.disconnect();
    if (this.#daemon.exitCode === null && this.#daemon.signalCode === null) {
      const exited = new Promise<void>((r) => this.#daemon.once('exit', () => r()));
      this.#daemon.kill('SIGTERM');
      await exited;
    }
  }
}
