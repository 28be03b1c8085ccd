/**
 * The call screen, from dialing to hanging up: who you are calling (with your camera preview behind
 * a video call), then the participants' tiles, the call timer and the controls (mute, camera,
 * switch to audio, invite, hang up). It reads the {@link CallModel} and reports the video elements
 * of connected people so the controller can render their video into them.
 * @packageDocumentation
 */
import { CallMediaType } from '@opencall/client';
import { avatarEl } from '../avatar.js';
import type { CallModel, Change } from '../call/CallModel.js';
import { formatDuration } from '../call/outcomes.js';
import { h, replaceChildren, show } from '../dom.js';
import type { ProfileBook } from '../profiles.js';
import { Tile } from './Tile.js';
import type { TileSlot } from './Tile.js';
import { netBars, roundButton, setNetBars, updateToggle } from './widgets.js';

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
}

/** The outgoing/connected call overlay. */
export class CallScreen {
  /** The screen's root element. */
  readonly el: HTMLElement;
  readonly #title: HTMLElement;
  readonly #status: HTMLElement;
  readonly #selfNet: HTMLElement;
  readonly #stage: HTMLElement;
  readonly #calling: HTMLElement;
  readonly #tiles = new Map<string, Tile>();
  readonly #viewed = new Set<string>();
  readonly #buttons: Record<'mic' | 'camera' | 'audioOnly' | 'invite' | 'hangup', HTMLButtonElement>;
  #timer: ReturnType<typeof setInterval> | null = null;
  #model: CallModel | null = null;
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly profiles: ProfileBook,
    private readonly actions: CallActions,
  ) {
    this.#title = h('h1', { class: 'call-title', attrs: { id: 'call-title' } });
    this.#status = h('p', { class: 'call-status', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.#selfNet = netBars('Your');
    this.#stage = h('div', { class: 'stage' });
    this.#calling = h('div', { class: 'calling-card' });
    this.#buttons = {
      mic: roundButton({ label: 'Mute microphone', caption: 'Mute', icon: 'mic', onClick: () => actions.onToggleMic() }),
      camera: roundButton({ label: 'Turn camera off', caption: 'Camera', icon: 'video', onClick: () => actions.onToggleCamera() }),
      audioOnly: roundButton({ label: 'Switch to audio call', caption: 'Audio only', icon: 'phone', onClick: () => actions.onSwitchToAudio() }),
      invite: roundButton({ label: 'Add people to the call', caption: 'Add', icon: 'addUser', onClick: () => actions.onInvite() }),
      hangup: roundButton({ label: 'Hang up', caption: 'End', icon: 'hangup', kind: 'danger', onClick: () => actions.onHangup() }),
    };
    this.el = h(
      'section',
      { class: 'overlay call', attrs: { 'aria-labelledby': 'call-title', role: 'region' } },
      this.#stage,
      h('header', { class: 'call-head' }, h('div', { class: 'call-head-text' }, this.#title, this.#status), this.#selfNet),
      this.#calling,
      h('div', { class: 'controls', attrs: { role: 'toolbar', 'aria-label': 'Call controls' } }, ...Object.values(this.#buttons)),
    );
    profiles.subscribe(() => this.#model && this.#render(this.#model));
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
  setPending(control: 'mic' | 'camera' | 'audioOnly' | 'invite' | 'hangup', pending: boolean): void {
    this.#buttons[control].disabled = pending;
  }

  /** Focuses the hang-up button (keyboard users land on the most important control). */
  focus(): void {
    this.#buttons.hangup.focus();
  }

  #onChange(model: CallModel, change: Change): void {
    if (change === 'levels') this.#renderLevels(model);
    else this.#render(model);
  }

  #render(m: CallModel): void {
    const video = m.mediaType === CallMediaType.video;
    const connected = m.phase === 'connected';
    this.el.dataset.phase = m.phase;
    this.el.dataset.media = video ? 'video' : 'audio';
    const joined = m.joined;
    const ringing = m.ringing;
    const others = [...m.peers.keys()];
    this.#title.textContent = others.length ? others.map((u) => this.profiles.nameOf(u)).join(', ') : 'Call';
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
    show(this.#buttons.camera, video);
    show(this.#buttons.audioOnly, video && connected && single);
    show(this.#buttons.invite, connected);
    updateToggle(this.#buttons.mic, { label: m.self.audio ? 'Mute microphone' : 'Unmute microphone', caption: m.self.audio ? 'Mute' : 'Unmute', icon: m.self.audio ? 'mic' : 'micOff', pressed: !m.self.audio });
    updateToggle(this.#buttons.camera, { label: m.self.video ? 'Turn camera off' : 'Turn camera on', caption: m.self.video ? 'Camera' : 'Camera off', icon: m.self.video ? 'video' : 'videoOff', pressed: !m.self.video });
    this.#buttons.hangup.setAttribute('aria-label', connected ? 'Hang up' : 'Cancel call');
    this.#buttons.hangup.querySelector('.round-btn-caption')!.textContent = connected ? 'End' : 'Cancel';
    this.#renderStatus(m);
    this.#renderLevels(m);
  }

  #renderCalling(m: CallModel): void {
    const ids = [...m.peers.keys()];
    const first = ids[0] ?? '';
    replaceChildren(
      this.#calling,
      h('div', { class: 'pulse' }, avatarEl(first, this.profiles.nameOf(first), this.profiles.avatarOf(first), 'xl')),
      ids.length > 1 ? h('p', { class: 'calling-more' }, `+ ${ids.length - 1} more`) : null,
    );
  }

  #renderStatus(m: CallModel): void {
    let text: string;
    if (m.phase === 'connected' && m.connectedAt !== null) text = formatDuration(Date.now() - m.connectedAt);
    else if (m.phase === 'outgoing') text = m.mediaType === CallMediaType.video ? 'Video calling…' : 'Calling…';
    else text = '';
    if (this.#status.textContent !== text) this.#status.textContent = text;
    this.#status.dataset.kind = m.phase === 'connected' ? 'timer' : 'status';
  }

  #renderLevels(m: CallModel): void {
    this.#tiles.get(m.selfId)?.levels(m.self);
    setNetBars(this.#selfNet, m.self.quality);
    for (const p of m.peers.values()) this.#tiles.get(p.userId)?.levels(p);
  }

  #tile(userId: string, isSelf: boolean): Tile {
    let tile = this.#tiles.get(userId);
    if (!tile) {
      tile = new Tile(userId, isSelf);
      tile.onFrames = () => this.#model && this.#render(this.#model);
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
