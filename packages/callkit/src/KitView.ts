/**
 * The kit's call UI inside its shadow root: the ring, call and end screens, the device menu, the
 * invite dialog, toasts, the connection banner and the floating window, wired to one engine
 * through a {@link CallController} per signed-in user. Nothing shows while no call is up.
 * @packageDocumentation
 */
import { CallMediaType } from '@opencall/client';
import type { CallEngine, CallParams, ConnectionState, DeviceKind } from '@opencall/client';
import { CallController } from './call/CallController.js';
import { MicMeter } from './call/MicMeter.js';
import type { Phase } from './call/CallModel.js';
import type { Outcome } from './call/outcomes.js';
import { h, show } from './dom.js';
import { language, onLanguageChange, t } from './i18n/index.js';
import type { ProfileBook } from './profiles.js';
import type { Tones } from './sounds.js';
import { CallScreen } from './ui/CallScreen.js';
import { DeviceMenu } from './ui/DeviceMenu.js';
import { makeDraggable, resetDrag } from './ui/drag.js';
import { IncomingScreen } from './ui/IncomingScreen.js';
import { InviteDialog } from './ui/InviteDialog.js';
import { OutcomeScreen } from './ui/OutcomeScreen.js';
import { Toasts } from './ui/Toasts.js';
import { openPip } from './ui/pip.js';
import type { PipWindow } from './ui/pip.js';
import { KIT_CSS } from './styles.js';

/** What a call looked like, for the `beforeCalling` / `afterCalling` hooks. */
export interface CallInfo {
  /** `outgoing` (this user calls) or `incoming` (it rings here). */
  direction: 'outgoing' | 'incoming';
  callId: string | null;
  mediaType: CallMediaType;
  /** The other people of the call (invitees, or the caller and the other invitees). */
  userIds: string[];
  /** How it ended (`afterCalling` only). */
  outcome?: Outcome;
}

/** The kit's hooks (SPEC §10). */
export interface CallKitHooks {
  /** A call screen is about to show (a call is placed or rings). */
  beforeCalling?: (info: CallInfo) => void;
  /** The call is over and its end card closed. */
  afterCalling?: (info: CallInfo) => void;
  /** The call went to the floating window (`float`) or the browser's picture-in-picture window (`pip`). */
  onMinimized?: (mode: 'float' | 'pip') => void;
  /** The call came back to full size (from the floating or the picture-in-picture window). */
  onMaximized?: () => void;
}

/** Where the call shows: full size, the in-page floating window, or the browser's picture-in-picture window. */
export type ViewMode = 'full' | 'float' | 'pip';

/** Size of the picture-in-picture window asked for (the browser may choose another). */
const PIP_SIZE = { width: 360, height: 520 };

/** The call UI of one kit. */
export class KitView {
  /** The root element inside the shadow root. */
  readonly el: HTMLElement;
  readonly #engine: CallEngine;
  readonly #profiles: ProfileBook;
  readonly #tones: Tones;
  readonly #hooks: CallKitHooks;
  readonly #toasts = new Toasts();
  readonly #incoming: IncomingScreen;
  readonly #call: CallScreen;
  readonly #outcome = new OutcomeScreen();
  readonly #invite: InviteDialog;
  readonly #devices: DeviceMenu;
  readonly #banner: HTMLElement;
  readonly #chosen = new Map<DeviceKind, string>();
  readonly #offs: (() => void)[] = [];
  #calls: CallController | null = null;
  #link: ConnectionState = 'connected';
  #mode: ViewMode = 'full';
  #pip: PipWindow | null = null;
  #current: CallInfo | null = null;
  #preview = false;
  readonly #meter = new MicMeter((level) => this.#call.setMicLevel(level));

  constructor(engine: CallEngine, profiles: ProfileBook, tones: Tones, hooks: CallKitHooks) {
    this.#engine = engine;
    this.#profiles = profiles;
    this.#tones = tones;
    this.#hooks = hooks;
    this.#incoming = new IncomingScreen(profiles, { onAccept: () => void this.#calls?.accept(), onReject: () => void this.#calls?.reject() });
    this.#call = new CallScreen(profiles, {
      onHangup: () => {
        if (this.#calls?.model.phase === 'preview') this.#calls.cancelPreview();
        else void this.#calls?.hangup();
      },
      onStart: () => this.#calls?.startPreviewed(),
      onToggleMic: () => void this.#calls?.toggleMic(),
      onToggleCamera: () => void this.#calls?.toggleCamera(),
      onSwitchToAudio: () => void this.#calls?.switchToAudio(),
      onInvite: () => this.#invite.open(this.#calls?.model.selfId ?? ''),
      onRemoteView: (userId, video) => this.#calls?.showRemote(userId, video),
      onRemoteViewGone: (userId) => this.#calls?.hideRemote(userId),
      onDevices: () => void this.#devices.open(),
      onFlip: () => void this.#calls?.flipCamera(),
      onMinimise: () => this.setMinimised(true),
      onPopOut: () => void this.popOut(),
      onMaximise: () => this.setMinimised(false),
    });
    this.#invite = new InviteDialog((ids) => void this.#calls?.invite(ids));
    this.#devices = new DeviceMenu(
      {
        getDeviceList: (kind) => engine.getDeviceList(kind),
        switchDevice: async (kind, deviceId) => {
          await engine.switchDevice(kind, deviceId);
          this.#chosen.set(kind, deviceId);
          if (kind === 'microphone' && this.#meter.running) void this.#meter.start(deviceId);
        },
        currentDevice: (kind) => this.#chosen.get(kind) ?? '',
      },
      (text) => this.#toasts.show(text, 'error'),
    );
    this.#banner = h('div', { class: 'kit-link', attrs: { role: 'status' } }, h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), h('span', { class: 'kit-link-text' }));
    this.el = h('div', { class: 'kit', attrs: { 'data-mode': 'full', part: 'call' } }, this.#banner, this.#call.el, this.#incoming.el, this.#outcome.el, this.#toasts.el, this.#invite.el, this.#devices.el);
    // The floating window moves by its header (pointer) or by the arrow keys when it has the focus.
    makeDraggable(this.el, this.el, () => this.#mode === 'float');
    // Full size, the call covers the page: Tab cycles inside it (a modal screen) instead of
    // wandering into the covered page; the picture-in-picture window holds nothing else either.
    // The floating window lets focus leave: the page is usable.
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Tab' && this.#mode !== 'float') trapTab(this.el, e);
      if (e.key === 'Enter' && this.#mode === 'float' && e.target === this.el) this.setMinimised(false);
    });
    this.#offs.push(
      engine.on('connectionStateChanged', ({ state }) => this.#onLink(state)),
      engine.on('deviceListChanged', () => {
        if (this.#devices.el.open) void this.#devices.refresh();
      }),
      engine.addObserver({ onKickedOffline: () => this.detachUser() }),
      onLanguageChange(() => this.#renderBanner()),
    );
    this.#screen('idle');
    this.#renderBanner();
  }

  /** The current controller (null before a user is attached). */
  get calls(): CallController | null {
    return this.#calls;
  }

  /** Starts handling calls for `selfId` (after `init`). Same user again: nothing changes. */
  attachUser(selfId: string): void {
    if (this.#calls?.model.selfId === selfId) return;
    this.detachUser();
    const calls = new CallController(selfId, {
      engine: this.#engine,
      profiles: this.#profiles,
      tones: this.#tones,
      toast: (text, tone) => this.#toasts.show(text, tone),
      localVideo: () => this.#call.localVideo,
      onCallFinished: () => undefined,
    });
    calls.onPendingChange = (control, pending) => {
      if (control === 'answer') this.#incoming.setBusy(pending);
      else this.#call.setPending(control, pending);
    };
    this.#engine.addObserver(calls.observer);
    // The call screen redraws first, so a phase change focuses controls that are already shown.
    this.#call.attach(calls.model);
    calls.model.subscribe((change) => {
      if (change === 'phase') this.#onPhase(calls);
    });
    this.#calls = calls;
  }

  /** Drops the signed-in user's call handling (signed out, kicked). */
  detachUser(): void {
    const calls = this.#calls;
    if (!calls) return;
    this.#engine.removeObserver(calls.observer);
    calls.reset();
    this.#call.detach();
    this.#invite.close();
    this.#devices.close();
    this.#calls = null;
    this.#screen('idle');
  }

  /** Places a call through the controller (the kit's `calls`). */
  async dial(userIds: string[], mediaType: CallMediaType, params?: CallParams): Promise<void> {
    const calls = this.#calls;
    if (!calls) throw new Error('call kit.init() first');
    await calls.dial(userIds, mediaType, params, this.#preview);
  }

  /** Video calls start with a camera and microphone preview (the call is placed from there). */
  enablePreview(enable: boolean): void {
    this.#preview = enable;
  }

  /** Shows the minimise button. */
  enableFloat(enable: boolean): void {
    this.#call.allowFloat(enable);
    if (!enable) this.setMinimised(false);
  }

  /** Where the call shows now. */
  get mode(): ViewMode {
    return this.#mode;
  }

  /** Minimises the call to the floating window, or brings it back to full size (from either window). */
  setMinimised(minimised: boolean): void {
    this.#setMode(minimised ? 'float' : 'full');
  }

  /**
   * Moves the call into the browser's picture-in-picture window; where the browser has none (or
   * refuses one: no user activation), into the floating window. Resolves with where it went.
   */
  async popOut(): Promise<ViewMode> {
    if (this.#mode === 'pip' || this.el.hidden) return this.#mode;
    let pip: PipWindow;
    try {
      pip = await openPip({
        content: this.el,
        css: KIT_CSS,
        themeFrom: (this.el.getRootNode() as ShadowRoot).host ?? this.el,
        title: t('call.pipTitle'),
        lang: language(),
        ...PIP_SIZE,
        onClosed: () => {
          // The window closed by itself (its close button, the page going away): back to full size.
          if (this.#pip === pip) {
            this.#pip = null;
            this.#setMode('full');
          }
        },
      });
    } catch {
      this.setMinimised(true);
      return this.#mode;
    }
    // The call ended while the browser opened the window: nothing to show there.
    if (this.el.hidden) {
      pip.close();
      return this.#mode;
    }
    this.#pip = pip;
    this.#setMode('pip');
    return this.#mode;
  }

  #setMode(mode: ViewMode): void {
    const was = this.#mode;
    if (was === mode) return;
    this.#mode = mode;
    if (was === 'pip' && this.#pip) {
      const pip = this.#pip;
      this.#pip = null;
      pip.close();
    }
    this.el.dataset.mode = mode;
    resetDrag(this.el);
    // The floating window is focusable so the arrow keys can move it.
    if (mode === 'float') {
      this.el.tabIndex = 0;
      this.el.setAttribute('role', 'group');
      this.el.setAttribute('aria-label', t('call.floatWindow'));
    } else {
      this.el.removeAttribute('tabindex');
      this.el.removeAttribute('role');
      this.el.removeAttribute('aria-label');
    }
    if (was === 'full') this.#hooks.onMinimized?.(mode === 'pip' ? 'pip' : 'float');
    else if (mode === 'full') this.#hooks.onMaximized?.();
    this.#call.focus();
  }

  /** Detaches from the engine and removes everything. */
  destroy(): void {
    this.setMinimised(false);
    this.detachUser();
    for (const off of this.#offs.splice(0)) off();
    this.el.remove();
  }

  #onPhase(calls: CallController): void {
    const m = calls.model;
    const phase: Phase = m.phase;
    // Until the call connects the engine has no level of this microphone: the kit measures it.
    if (phase === 'preview' || phase === 'outgoing') {
      if (!this.#meter.running) void this.#meter.start(this.#chosen.get('microphone') ?? '');
    } else this.#meter.stop();
    switch (phase) {
      case 'preview':
        this.#outcome.cancel();
        this.#screen('call');
        this.#call.focus();
        break;
      case 'incoming':
      case 'outgoing': {
        this.#current = { direction: phase, callId: m.callId, mediaType: m.mediaType, userIds: phase === 'incoming' ? [m.callerId, ...m.invitees.filter((u) => u !== m.selfId)] : [...m.invitees] };
        this.#hooks.beforeCalling?.({ ...this.#current });
        this.#outcome.cancel();
        if (phase === 'incoming') {
          this.#incoming.show(m.callerId, m.invitees.filter((u) => u !== m.selfId), m.mediaType);
          this.#screen('incoming');
          this.#incoming.focus();
        } else {
          this.#screen('call');
          this.#call.focus();
        }
        break;
      }
      case 'connected':
        this.#screen('call');
        this.#call.focus();
        break;
      case 'ended': {
        this.#invite.close();
        this.#devices.close();
        const again = m.isCaller && calls.lastDial ? calls.lastDial : null;
        const outcome = m.outcome ?? { title: t('end.ended'), detail: '', tone: 'neutral' as const };
        if (this.#current) this.#current = { ...this.#current, callId: m.callId ?? this.#current.callId, outcome };
        this.#outcome.show(outcome, {
          autoCloseMs: outcome.tone === 'neutral' ? 2500 : 5000,
          onDone: () => calls.dismiss(),
          ...(again && outcome.tone !== 'neutral' ? { onAgain: () => void this.dial(again.userIds, again.mediaType) } : {}),
        });
        this.#screen('outcome');
        this.#outcome.focus();
        break;
      }
      case 'idle': {
        this.#screen('idle');
        const done = this.#current;
        this.#current = null;
        if (done) this.#hooks.afterCalling?.(done);
        break;
      }
    }
  }

  #onLink(state: ConnectionState): void {
    this.#link = state;
    // A refused reconnection or a sign-out ends the session: nothing of this user stays on screen.
    if (state === 'disconnected' && !this.#engine.isInitialized) this.detachUser();
    this.#renderBanner();
  }

  #renderBanner(): void {
    const lost = this.#link !== 'connected' && this.#calls !== null;
    show(this.#banner, lost);
    this.#banner.dataset.state = this.#link;
    const text = this.#banner.querySelector('.kit-link-text');
    if (text) text.textContent = t(this.#link === 'reconnecting' ? 'call.reconnecting' : 'call.offline');
  }

  #screen(name: 'idle' | 'incoming' | 'call' | 'outcome'): void {
    // The host page stays usable while no call is up: the kit has no box then.
    show(this.el, name !== 'idle');
    show(this.#incoming.el, name === 'incoming');
    show(this.#call.el, name === 'call');
    show(this.#outcome.el, name === 'outcome');
    if (name !== 'incoming' && name !== 'call') this.#tones.stop();
    if (name === 'idle' && this.#mode !== 'full') this.setMinimised(false);
  }
}

/** Keeps Tab / Shift+Tab inside `root`: from the last control to the first and back. */
function trapTab(root: HTMLElement, e: KeyboardEvent): void {
  const controls = [...root.querySelectorAll<HTMLElement>('button, select, input, [tabindex="0"]')].filter((el) => !(el as HTMLButtonElement).disabled && el.checkVisibility());
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (!first || !last) return;
  const active = (root.getRootNode() as ShadowRoot).activeElement;
  if (e.shiftKey && active === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && active === last) {
    e.preventDefault();
    first.focus();
  }
}
