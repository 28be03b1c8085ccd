/**
 * The device menu during a call: microphone, camera and speaker pickers filled from the engine's
 * `getDeviceList`, switching with `switchDevice`, refreshed on `deviceListChanged` (a headset
 * plugged in). The speaker picker only shows where the browser can route audio (`setSinkId`).
 * @packageDocumentation
 */
import type { DeviceInfo, DeviceKind } from '@opencall/client';
import { h } from '../dom.js';
import { onLanguageChange, t } from '../i18n/index.js';
import type { MessageKey } from '../i18n/index.js';

/** What the menu needs: the engine's device methods. */
export interface DeviceSource {
  getDeviceList(kind: DeviceKind): Promise<DeviceInfo[]>;
  switchDevice(kind: DeviceKind, deviceId: string): Promise<void>;
  /** The device in use per kind ('' = default). */
  currentDevice(kind: DeviceKind): string;
}

const KINDS: { kind: DeviceKind; label: MessageKey }[] = [
  { kind: 'microphone', label: 'devices.microphone' },
  { kind: 'camera', label: 'devices.camera' },
  { kind: 'speaker', label: 'devices.speaker' },
];

/** The device dialog. */
export class DeviceMenu {
  /** The dialog element. */
  readonly el: HTMLDialogElement;
  readonly #title: HTMLElement;
  readonly #done: HTMLButtonElement;
  readonly #fields = new Map<DeviceKind, { field: HTMLElement; label: HTMLLabelElement; select: HTMLSelectElement }>();
  readonly #error: HTMLElement;

  constructor(
    private readonly source: DeviceSource,
    private readonly onError: (text: string) => void,
  ) {
    this.#title = h('h2', { attrs: { id: 'devices-title' } });
    this.#done = h('button', { class: 'btn primary', attrs: { type: 'button' }, on: { click: () => this.close() } });
    this.#error = h('p', { class: 'field-error', attrs: { role: 'alert' } });
    const fields = KINDS.map(({ kind }) => {
      const select = h('select', { attrs: { id: `device-${kind}`, 'data-kind': kind }, on: { change: () => void this.#switch(kind, select.value) } });
      const label = h('label', { attrs: { for: `device-${kind}` } });
      const field = h('div', { class: 'field' }, label, select);
      this.#fields.set(kind, { field, label, select });
      return field;
    });
    this.el = h('dialog', { class: 'sheet devices', attrs: { 'aria-labelledby': 'devices-title' } }, this.#title, ...fields, this.#error, h('div', { class: 'sheet-actions' }, this.#done));
    this.#relabel();
    onLanguageChange(() => this.#relabel());
  }

  /** Opens the menu with fresh lists. */
  async open(): Promise<void> {
    this.#error.textContent = '';
    if (!this.el.open) this.el.showModal();
    await this.refresh();
    this.#fields.get('microphone')?.select.focus();
  }

  /** Re-reads the device lists (on open and when devices come and go). */
  async refresh(): Promise<void> {
    for (const { kind } of KINDS) {
      const f = this.#fields.get(kind);
      if (!f) continue;
      let list: DeviceInfo[] = [];
      try {
        list = await this.source.getDeviceList(kind);
      } catch {
        list = [];
      }
      f.field.hidden = list.length === 0;
      const current = this.source.currentDevice(kind);
      f.select.replaceChildren(
        ...list.map((d, i) => {
          const label = d.label || (d.deviceId === 'default' ? t('devices.default') : t('devices.unnamed', { index: i + 1 }));
          return h('option', { attrs: { value: d.deviceId, selected: d.deviceId === current } }, label);
        }),
      );
      if (current && list.some((d) => d.deviceId === current)) f.select.value = current;
    }
  }

  /** Closes it. */
  close(): void {
    if (this.el.open) this.el.close();
  }

  async #switch(kind: DeviceKind, deviceId: string): Promise<void> {
    this.#error.textContent = '';
    try {
      await this.source.switchDevice(kind, deviceId);
    } catch {
      this.#error.textContent = t('devices.failed');
      this.onError(t('devices.failed'));
    }
  }

  #relabel(): void {
    this.#title.textContent = t('devices.title');
    this.#done.textContent = t('devices.close');
    for (const { kind, label } of KINDS) {
      const f = this.#fields.get(kind);
      if (f) f.label.textContent = t(label);
    }
  }
}
