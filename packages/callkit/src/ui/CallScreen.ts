/**
 * The call screen, from the preview to hanging up: who you are calling (with your camera preview
 * behind a video call and your microphone level until the call connects; Start in the preview), then the participants' tiles, the call timer and the controls (mute, camera,
 * switch to audio, invite, hang up). It reads the {@link CallModel} and reports the video elements
 * of connected people so the controller can render their video into them.
 * @packageDocumentation
 */
import { CallMediaType } from '@opencall/client';
import { avatarEl } from '../avatar.js';
import type { CallModel, Change, Peer } from '../call/CallModel.js';
import { formatDuration } from '../call/outcomes.js';
import { h, replaceChildren, show } from '../dom.js';
import { icon } from '../icons.js';
import type { IconName } from '../icons.js';
import type { ProfileBook } from '../profiles.js';
import { SPEAKING_THRESHOLD, Tile } from './Tile.js';
import type { TileSlot } from './Tile.js';
import { netBars, roundButton, setNetBars, updateToggle } from './widgets.js';
import { onLanguageChange, t } from '../i18n/index.js';
import { makeDraggable } from './drag.js';
import { pipSupported } from './pip.js';

/** What the call screen asks the controller to do. */
export interface CallActions {
  onHangup(): void;
  onToggleMic(): void;
  onToggleCamera(): void;
  onSwitchToAudio(): void;
  onInvite(): void;
  /** A connected person's tile is ready for their video (again after a switch to video). */
  onRemoteView(userId: string, video: HTMLVideoElement): void;
  /** That tile is gone. */
  onRemoteViewGone(userId: string): void;
  /** Open the device menu. */
  onDevices(): void;
  /** Flip between the front and back camera (phones). */
  onFlip(): void;
  /** Minimise to the floating window (shown only when the floating window is enabled). */
  onMinimise(): void;
  /** Move the call into the browser's picture-in-picture window (shown where the browser has one). */
  onPopOut(): void;
  /** Back from the floating window. */
  onMaximise(): void;
  /** Place the call being previewed. */
  onStart(): void;
}

type ButtonName = 'mic' | 'camera' | 'flip' | 'audioOnly' | 'invite' | 'devices' | 'hangup' | 'start';

/** The outgoing/connected call overlay. */
export class CallScreen {
  /** The screen's root element. */
  readonly el: HTMLElement;
  readonly #title: HTMLElement;
  readonly #status: HTMLElement;
  readonly #selfNet: HTMLElement;
  readonly #stage: HTMLElement;
  readonly #calling: HTMLElement;
  readonly #meter: HTMLElement;
  #meterLevel = -1;
  readonly #tiles = new Map<string, Tile>();
  readonly #viewed = new Set<string>();
  readonly #buttons: Record<ButtonName, HTMLButtonElement>;
  readonly #minimise: HTMLButtonElement;
  readonly #popOut: HTMLButtonElement;
  readonly #maximise: HTMLButtonElement;
  #activeSpeaker: string | null = null;
  #floatAllowed = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #model: CallModel | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly profiles: ProfileBook,
    private readonly actions: CallActions,
  ) {
    this.#title = h('h1', { class: 'call-title', attrs: { id: 'call-title' } });
    this.#status = h('p', { class: 'call-status', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.#selfNet = netBars(null);
    this.#stage = h('div', { class: 'stage' });
    this.#calling = h('div', { class: 'calling-card' });
    // The microphone level before the call connects (the kit's own meter; the call reports it after).
    this.#meter = h(
      'div',
      { class: 'mic-level', attrs: { role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 } },
      icon('mic'),
      h('span', { class: 'mic-level-track' }, h('span', { class: 'mic-level-bar' })),
    );
    // Labels are set by #render (they depend on the call and the language).
    const button = (ic: IconName, onClick: () => void, kind?: 'danger'): HTMLButtonElement => roundButton({ label: '', caption: '', icon: ic, onClick, ...(kind ? { kind } : {}) });
    this.#buttons = {
      mic: button('mic', () => actions.onToggleMic()),
      camera: button('video', () => actions.onToggleCamera()),
      flip: button('flip', () => actions.onFlip()),
      audioOnly: button('phone', () => actions.onSwitchToAudio()),
      invite: button('addUser', () => actions.onInvite()),
      devices: button('settings', () => actions.onDevices()),
      hangup: button('hangup', () => actions.onHangup(), 'danger'),
      start: roundButton({ label: '', caption: '', icon: 'video', kind: 'accept', onClick: () => actions.onStart() }),
    };
    for (const [name, btn] of Object.entries(this.#buttons)) btn.dataset.kind = name;
    this.#minimise = h('button', { class: 'icon-btn head-btn minimise', attrs: { type: 'button' }, on: { click: () => actions.onMinimise() } }, icon('minimise'));
    this.#popOut = h('button', { class: 'icon-btn head-btn popout', attrs: { type: 'button' }, on: { click: () => actions.onPopOut() } }, icon('popOut'));
    this.#maximise = h('button', { class: 'icon-btn head-btn maximise', attrs: { type: 'button' }, on: { click: () => actions.onMaximise() } }, icon('maximise'));
    this.el = h(
      'section',
      { class: 'overlay call', attrs: { 'aria-labelledby': 'call-title', role: 'region' } },
      this.#stage,
      h('header', { class: 'call-head' }, h('div', { class: 'call-head-text' }, this.#title, this.#status), h('div', { class: 'call-head-end' }, this.#selfNet, this.#minimise, this.#popOut, this.#maximise)),
      this.#calling,
      h('div', { class: 'controls', attrs: { role: 'toolbar' } }, ...Object.values(this.#buttons)),
    );
    const redraw = (): void => {
      if (this.#model) this.#render(this.#model, true);
    };
    profiles.subscribe(redraw);
    onLanguageChange(redraw);
  }

  /** Shows the minimise button (the kit's `enableFloatWindow`). */
  allowFloat(allowed: boolean): void {
    this.#floatAllowed = allowed;
    if (this.#model) this.#render(this.#model);
  }

  /** Starts showing `model` (a call screen follows one call at a time). */
  attach(model: CallModel): void {
    this.detach();
    this.#model = model;
    this.#unsubscribe = model.subscribe((change) => this.#onChange(model, change));
    this.#render(model);
    this.#timer = setInterval(() => this.#renderStatus(model), 1000);
  }

  /** Stops following the model and drops every tile. */
  detach(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const userId of [...this.#tiles.keys()]) this.#dropTile(userId);
    this.#model = null;
  }

  /** The own preview's video element (for openCamera), created on demand. */
  get localVideo(): HTMLVideoElement {
    return this.#tile(this.#model?.selfId ?? 'self', true).video;
  }

  /** Marks a control as working (disabled) while its request runs. */
  setPending(control: ButtonName, pending: boolean): void {
    this.#buttons[control].disabled = pending;
  }

  /** Focuses the hang-up button, or Start in the preview (keyboard users land on the most important control). */
  focus(): void {
    (this.#model?.phase === 'preview' ? this.#buttons.start : this.#buttons.hangup).focus();
  }

  /** Shows the microphone level (0–100) of the preview and the outgoing ring. */
  setMicLevel(level: number): void {
    if (level === this.#meterLevel) return;
    this.#meterLevel = level;
    this.#meter.style.setProperty('--level', String(level / 100));
    this.#meter.setAttribute('aria-valuenow', String(level));
  }

  #onChange(model: CallModel, change: Change): void {
    if (change === 'levels') this.#renderLevels(model);
    else this.#render(model);
  }

  #render(m: CallModel, relabel = false): void {
    // While a call rings here the ring screen shows, not this one: nothing to draw on the ring's
    // critical path (its first paint); the screen draws when the call is accepted.
    if (m.phase === 'incoming') return;
    const video = m.mediaType === CallMediaType.video;
    const connected = m.phase === 'connected';
    const preview = m.phase === 'preview';
    this.el.dataset.phase = m.phase;
    this.el.dataset.media = video ? 'video' : 'audio';
    const joined = m.joined;
    const ringing = m.ringing;
    const others = [...m.peers.keys()];
    this.#title.textContent = others.length ? others.map((u) => this.profiles.nameOf(u)).join(', ') : t('call.fallbackTitle');
    this.el.setAttribute('aria-label', t('call.region'));
    this.#buttons.hangup.parentElement?.setAttribute('aria-label', t('call.controls'));
    // Layout: calling (dialing), duo (1-to-1, or a group down to one other person), grid (group).
    const layout = !connected ? 'calling' : !m.isGroup || (joined.length <= 1 && ringing.length === 0) ? 'duo' : 'grid';
    this.#stage.dataset.layout = layout;
    this.#stage.dataset.count = String(joined.length + ringing.length + 1);

    const keep = new Set<string>([m.selfId]);
    const selfSlot: TileSlot = layout === 'calling' ? (video ? 'background' : 'hidden') : layout === 'duo' ? (video ? 'pip' : 'hidden') : 'grid';
    this.#tile(m.selfId, true).update({ name: this.profiles.nameOf(m.selfId), avatarUrl: this.profiles.avatarOf(m.selfId), state: 'self', media: m.self, videoCall: video, slot: selfSlot });
    if (connected) {
      for (const p of [...joined, ...ringing]) {
        keep.add(p.userId);
        const tile = this.#tile(p.userId, false);
        tile.update({ name: this.profiles.nameOf(p.userId), avatarUrl: this.profiles.avatarOf(p.userId), state: p.state, media: p, videoCall: video, slot: layout === 'duo' ? 'main' : 'grid' });
        this.#syncView(p.userId, tile, video && p.state === 'joined');
      }
    }
    for (const userId of [...this.#tiles.keys()]) if (!keep.has(userId)) this.#dropTile(userId);
    // Keep DOM order = join order (self first in a grid).
    const order = [m.selfId, ...joined.map((p) => p.userId), ...ringing.map((p) => p.userId)];
    for (const userId of order) {
      const el = this.#tiles.get(userId)?.el;
      if (el) this.#stage.appendChild(el);
    }

    show(this.#calling, layout === 'calling');
    if (layout === 'calling') this.#renderCalling(m);
    const single = !m.isGroup;
    show(this.#buttons.mic, !preview);
    show(this.#buttons.camera, video && !preview);
    show(this.#buttons.start, preview);
    show(this.#buttons.audioOnly, video && connected && single);
    show(this.#buttons.invite, connected);
    show(this.#buttons.flip, video && m.self.video && coarsePointer());
    // Nothing to minimise in the preview: no call is up yet.
    show(this.#minimise, this.#floatAllowed && !preview);
    show(this.#popOut, this.#floatAllowed && !preview && pipSupported());
    for (const [btn, key] of [[this.#minimise, 'call.minimise'], [this.#popOut, 'call.popOut']] as const) {
      btn.setAttribute('aria-label', t(key));
      btn.title = t(key);
    }
    this.#maximise.setAttribute('aria-label', t('call.maximise'));
    this.#maximise.title = t('call.maximise');
    const b = this.#buttons;
    updateToggle(b.mic, { label: t(m.self.audio ? 'call.mute' : 'call.unmute'), caption: t(m.self.audio ? 'call.muteCaption' : 'call.unmuteCaption'), icon: m.self.audio ? 'mic' : 'micOff', pressed: !m.self.audio });
    updateToggle(b.camera, { label: t(m.self.video ? 'call.cameraOff' : 'call.cameraOn'), caption: t(m.self.video ? 'call.cameraCaption' : 'call.cameraOffCaption'), icon: m.self.video ? 'video' : 'videoOff', pressed: !m.self.video });
    updateToggle(b.flip, { label: t('call.flip'), caption: t('call.flipCaption'), icon: 'flip', pressed: null });
    updateToggle(b.audioOnly, { label: t('call.audioOnly'), caption: t('call.audioOnlyCaption'), icon: 'phone', pressed: null });
    updateToggle(b.invite, { label: t('call.invite'), caption: t('call.inviteCaption'), icon: 'addUser', pressed: null });
    updateToggle(b.devices, { label: t('call.devices'), caption: t('call.devicesCaption'), icon: 'settings', pressed: null });
    updateToggle(b.hangup, { label: t(connected ? 'call.hangup' : 'call.cancel'), caption: t(connected ? 'call.hangupCaption' : 'call.cancelCaption'), icon: 'hangup', pressed: null });
    updateToggle(b.start, { label: t('preview.start'), caption: t('preview.startCaption'), icon: 'video', pressed: null });
    this.#meter.setAttribute('aria-label', t('preview.micLevel'));
    this.#renderStatus(m);
    this.#renderLevels(m, relabel);
  }

  #renderCalling(m: CallModel): void {
    const ids = [...m.peers.keys()];
    const first = ids[0] ?? '';
    replaceChildren(
      this.#calling,
      h('div', { class: 'pulse' }, avatarEl(first, this.profiles.nameOf(first), this.profiles.avatarOf(first), 'xl')),
      ids.length > 1 ? h('p', { class: 'calling-more' }, t('call.more', { count: ids.length - 1 })) : null,
      this.#meter,
    );
  }

  #renderStatus(m: CallModel): void {
    let text: string;
    if (m.phase === 'connected' && m.connectedAt !== null) text = formatDuration(Date.now() - m.connectedAt);
    else if (m.phase === 'outgoing') text = t(m.mediaType === CallMediaType.video ? 'call.videoCalling' : 'call.calling');
    else if (m.phase === 'preview') text = t('preview.status');
    else text = '';
    if (this.#status.textContent !== text) this.#status.textContent = text;
    this.#status.dataset.kind = m.phase === 'connected' ? 'timer' : 'status';
  }

  #renderLevels(m: CallModel, relabel = false): void {
    this.#tiles.get(m.selfId)?.levels(m.self, relabel);
    setNetBars(this.#selfNet, m.self.quality, relabel);
    for (const p of m.peers.values()) this.#tiles.get(p.userId)?.levels(p, relabel);
    this.#pickActiveSpeaker(m);
  }

  /** The loudest speaking person in a grid is shown larger; they stay so until someone else speaks. */
  #pickActiveSpeaker(m: CallModel): void {
    let loudest: string | null = null;
    let level = SPEAKING_THRESHOLD - 1;
    const candidates: [string, { audio: boolean; volume: number }][] = [[m.selfId, m.self], ...m.joined.map((p): [string, Peer] => [p.userId, p])];
    for (const [userId, media] of candidates) {
      if (media.audio && media.volume > level) {
        loudest = userId;
        level = media.volume;
      }
    }
    if (loudest !== null) this.#activeSpeaker = loudest;
    if (this.#activeSpeaker !== null && !this.#tiles.has(this.#activeSpeaker)) this.#activeSpeaker = null;
    for (const [userId, tile] of this.#tiles) tile.setActive(userId === this.#activeSpeaker);
  }

  #tile(userId: string, isSelf: boolean): Tile {
    let tile = this.#tiles.get(userId);
    if (!tile) {
      tile = new Tile(userId, isSelf);
      tile.onFrames = () => this.#model && this.#render(this.#model);
      // The own picture-in-picture can be moved out of the way (pointer or arrow keys).
      const el = tile.el;
      if (isSelf) makeDraggable(el, el, () => el.dataset.slot === 'pip');
      this.#tiles.set(userId, tile);
      this.#stage.appendChild(tile.el);
    }
    return tile;
  }

  /** Asks for a person's video once per tile while the call is a video call. */
  #syncView(userId: string, tile: Tile, wanted: boolean): void {
    if (wanted && !this.#viewed.has(userId)) {
      this.#viewed.add(userId);
      this.actions.onRemoteView(userId, tile.video);
    } else if (!wanted && this.#viewed.has(userId)) {
      this.#viewed.delete(userId);
      tile.resetFrames();
      this.actions.onRemoteViewGone(userId);
    }
  }

  #dropTile(userId: string): void {
    const tile = this.#tiles.get(userId);
    if (!tile) return;
    if (this.#viewed.delete(userId)) this.actions.onRemoteViewGone(userId);
    tile.el.remove();
    this.#tiles.delete(userId);
  }
}

/** True on touch-first devices (phones, tablets), where a camera flip button makes sense. */
function coarsePointer(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;
}
