/**
 * One person's tile in a call: their video (or avatar when the camera is off or the call is
 * audio-only), name, muted-mic mark, speaking glow and network bars. The video element lives as
 * long as the tile, so the media adapter's rendering is never interrupted by redraws.
 * @packageDocumentation
 */
import { avatarEl } from '../avatar.js';
import type { Peer, SelfState } from '../call/CallModel.js';
import { h, replaceChildren, show } from '../dom.js';
import { icon } from '../icons.js';
import { netBars, setNetBars } from './widgets.js';
import { t } from '../i18n/index.js';

/** Where a tile sits in the stage (the stylesheet positions each). */
export type TileSlot = 'main' | 'pip' | 'grid' | 'background' | 'hidden';

/** Voice level (0–100) above which a person counts as speaking. */
export const SPEAKING_THRESHOLD = 12;

/** A participant tile. */
export class Tile {
  /** The tile's root element. */
  readonly el: HTMLElement;
  /** Where this person's video renders. */
  readonly video: HTMLVideoElement;
  readonly #avatar: HTMLElement;
  readonly #name: HTMLElement;
  readonly #muted: HTMLElement;
  readonly #status: HTMLElement;
  readonly #net: HTMLElement;
  #hasFrames = false;
  #avatarKey = '';
  /** Called when the first frame arrives (the screen then redraws this tile). */
  onFrames: (() => void) | null = null;

  constructor(
    readonly userId: string,
    readonly isSelf: boolean,
  ) {
    this.video = h('video', { attrs: { autoplay: true, playsinline: true, 'aria-hidden': 'true' } });
    // Own preview: never play back one's own microphone.
    this.video.muted = isSelf;
    if (isSelf) this.video.classList.add('mirror');
    // A frame arriving proves video even before the peer's onUserVideoAvailable does.
    this.video.addEventListener('resize', () => this.#onFrames());
    this.video.addEventListener('loadeddata', () => this.#onFrames());
    this.#avatar = h('div', { class: 'tile-avatar' });
    this.#name = h('span', { class: 'tile-name' });
    this.#muted = h('span', { class: 'tile-muted', attrs: { role: 'img', 'aria-label': t('tile.micOff') } }, icon('micOff'));
    this.#status = h('span', { class: 'tile-status' });
    this.#net = netBars(isSelf ? null : userId);
    this.el = h(
      'div',
      { class: 'tile', attrs: { 'data-user': userId, 'data-self': String(isSelf), role: 'group' } },
      this.video,
      this.#avatar,
      h('div', { class: 'tile-label' }, this.#muted, this.#name, this.#net),
      this.#status,
    );
  }

  /** Redraws name, avatar, state and media marks. */
  update(opts: { name: string; avatarUrl: string; state: Peer['state'] | 'self'; media: SelfState | Peer; videoCall: boolean; slot: TileSlot }): void {
    const { name, state, media, videoCall, slot } = opts;
    const label = this.isSelf ? t('tile.you') : name;
    if (this.#name.textContent !== label) this.#name.textContent = label;
    this.el.setAttribute('aria-label', label);
    this.#muted.setAttribute('aria-label', t('tile.micOff'));
    if (!this.isSelf && this.#net.dataset.whose !== name) this.#net.dataset.whose = name;
    const size = slot === 'main' || slot === 'background' ? 'xl' : 'lg';
    const key = `${name}|${opts.avatarUrl}|${size}`;
    if (key !== this.#avatarKey) {
      this.#avatarKey = key;
      replaceChildren(this.#avatar, avatarEl(this.userId, name, opts.avatarUrl, size));
    }
    const videoOn = videoCall && state !== 'ringing' && (media.video === true || (media.video === null && this.#hasFrames));
    this.el.dataset.video = videoOn ? 'on' : 'off';
    this.el.dataset.state = state;
    this.el.dataset.slot = slot;
    this.el.dataset.muted = String(!media.audio);
    show(this.#muted, !media.audio && state !== 'ringing');
    this.#status.textContent = state === 'ringing' ? t('tile.ringing') : '';
    show(this.#status, state === 'ringing');
    show(this.#net, state !== 'ringing');
  }

  /** Speaking glow and network bars (called on every ~300 ms level tick). */
  levels(media: SelfState | Peer, relabel = false): void {
    const speaking = media.audio && media.volume >= SPEAKING_THRESHOLD;
    if (this.el.dataset.speaking !== String(speaking)) this.el.dataset.speaking = String(speaking);
    setNetBars(this.#net, media.quality, relabel);
  }

  /** Marks this tile as the active speaker (the grid shows it larger on a wide screen). */
  setActive(active: boolean): void {
    if (this.el.dataset.active !== String(active)) this.el.dataset.active = String(active);
  }

  /** A remote video arrived or stopped: forget what we saw. */
  resetFrames(): void {
    this.#hasFrames = false;
  }

  #onFrames(): void {
    if (this.video.videoWidth > 0 && !this.#hasFrames) {
      this.#hasFrames = true;
      this.onFrames?.();
    }
  }
}
