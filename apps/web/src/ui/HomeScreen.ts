/**
 * The signed-in home: a header with who you are and whether you are connected, the dialer (one or
 * more user ids, audio or video, recent contacts for one-click redial) and the history tab.
 * @packageDocumentation
 */
import { CallMediaType } from '@opencall/client';
import type { CallRecord } from '@opencall/client';
import type { ProfileBook } from '@opencall/callkit';
import { IdListInput, avatarEl, h, icon, replaceChildren, show } from '@opencall/callkit/parts';
import { HistoryView, otherParties } from './HistoryView.js';

/** What the home screen asks the controller to do. */
export interface HomeActions {
  onCall(userIds: string[], mediaType: CallMediaType): void;
  onDelete(callId: string): void;
  /** Show a history row's details (its delivery trace). */
  onDetails(record: CallRecord, opener: HTMLElement): void;
  onSignOut(): void;
  onShowHistory(): void;
  /** The "check camera and microphone first" box changed. */
  onPreviewChange(preview: boolean): void;
}

/** Connection state shown in the header. */
export type LinkState = 'online' | 'reconnecting';

/** The home screen with its two tabs. */
export class HomeScreen {
  /** The screen's root element. */
  readonly el: HTMLElement;
  readonly history: HistoryView;
  readonly #me: HTMLElement;
  readonly #link: HTMLElement;
  readonly #dial: IdListInput;
  readonly #contacts: HTMLElement;
  readonly #dialPanel: HTMLElement;
  readonly #tabs: { call: HTMLButtonElement; history: HTMLButtonElement };
  readonly #badge: HTMLElement;
  readonly #preview: HTMLInputElement;
  #selfId = '';
  #records: CallRecord[] = [];

  constructor(
    private readonly profiles: ProfileBook,
    private readonly actions: HomeActions,
  ) {
    this.history = new HistoryView(profiles, { onCall: (ids, t) => actions.onCall(ids, t), onDelete: (id) => actions.onDelete(id), onDetails: (r, opener) => actions.onDetails(r, opener) });
    this.#me = h('div', { class: 'me' });
    this.#link = h('span', { class: 'link-state', attrs: { role: 'status', 'data-state': 'online' } }, 'Online');
    this.#dial = new IdListInput({
      id: 'dial-input',
      label: 'Who do you want to call?',
      placeholder: 'User ID, e.g. bob',
      exclude: () => this.#selfId,
      onEnterEmpty: () => this.#dialNow(CallMediaType.video),
    });
    this.#contacts = h('ul', { class: 'contacts', attrs: { 'aria-label': 'Recent contacts' } });
    this.#preview = h('input', { attrs: { type: 'checkbox', id: 'preview-video' }, on: { change: () => actions.onPreviewChange(this.#preview.checked) } });
    this.#dialPanel = h(
      'section',
      { class: 'panel dialer', attrs: { 'aria-labelledby': 'dialer-title' } },
      h('h2', { attrs: { id: 'dialer-title' } }, 'New call'),
      this.#dial.el,
      h('p', { class: 'hint' }, 'Add several people for a group call: press Enter after each user ID.'),
      h(
        'div',
        { class: 'dial-actions' },
        h('button', { class: 'btn secondary', attrs: { type: 'button', 'aria-label': 'Start audio call' }, on: { click: () => this.#dialNow(CallMediaType.audio) } }, icon('phone'), 'Audio'),
        h('button', { class: 'btn primary', attrs: { type: 'button', 'aria-label': 'Start video call' }, on: { click: () => this.#dialNow(CallMediaType.video) } }, icon('video'), 'Video'),
      ),
      h('div', { class: 'check' }, this.#preview, h('label', { attrs: { for: 'preview-video' } }, 'Check my camera and microphone before a video call')),
      h('h3', { class: 'section-title' }, 'Recent contacts'),
      this.#contacts,
    );
    this.#badge = h('span', { class: 'badge', attrs: { 'aria-hidden': 'true' } });
    this.#tabs = {
      call: h('button', { class: 'tab', attrs: { type: 'button', role: 'tab', id: 'tab-call', 'aria-controls': 'home-body' }, on: { click: () => this.showTab('call') } }, icon('dialpad'), h('span', {}, 'Call')),
      history: h(
        'button',
        { class: 'tab', attrs: { type: 'button', role: 'tab', id: 'tab-history', 'aria-controls': 'home-body' }, on: { click: () => this.showTab('history') } },
        icon('history'),
        h('span', {}, 'History'),
        this.#badge,
      ),
    };
    this.el = h(
      'section',
      { class: 'screen home' },
      h(
        'header',
        { class: 'topbar' },
        this.#me,
        h('button', { class: 'icon-btn', attrs: { type: 'button', 'aria-label': 'Sign out', title: 'Sign out' }, on: { click: () => actions.onSignOut() } }, icon('logout')),
      ),
      h('main', { class: 'home-body', attrs: { id: 'home-body', role: 'tabpanel' } }, this.#dialPanel, this.history.el),
      h('nav', { class: 'tabbar', attrs: { role: 'tablist', 'aria-label': 'Sections' } }, this.#tabs.call, this.#tabs.history),
    );
    profiles.subscribe(() => {
      this.#renderMe();
      this.#renderContacts();
    });
    this.showTab('call');
  }

  /** Sets who is signed in. */
  setSelf(userId: string): void {
    this.#selfId = userId;
    this.#dial.clear();
    this.#renderMe();
  }

  /** Ticks (or clears) the "check camera and microphone first" box (the saved choice). */
  setPreview(preview: boolean): void {
    this.#preview.checked = preview;
  }

  /** Shows the connection state in the header. */
  setLink(state: LinkState): void {
    this.#link.dataset.state = state;
    this.#link.textContent = state === 'online' ? 'Online' : 'Reconnecting…';
  }

  /** Shows one tab. */
  showTab(tab: 'call' | 'history'): void {
    show(this.#dialPanel, tab === 'call');
    show(this.history.el, tab === 'history');
    this.#tabs.call.setAttribute('aria-selected', String(tab === 'call'));
    this.#tabs.history.setAttribute('aria-selected', String(tab === 'history'));
    if (tab === 'history') {
      this.#badge.textContent = '';
      this.actions.onShowHistory();
    }
  }

  /** New records: history list, recent contacts, and a badge for missed calls since last look. */
  setRecords(records: CallRecord[], newMissed: number): void {
    this.#records = records;
    this.history.setRecords(records, this.#selfId);
    this.#badge.textContent = newMissed > 0 ? String(newMissed) : '';
    this.#tabs.history.setAttribute('aria-label', newMissed > 0 ? `History, ${newMissed} missed` : 'History');
    this.#renderContacts();
  }

  /** Puts ids into the dialer (e.g. after a failed call) and focuses it. */
  focusDialer(ids: string[] = []): void {
    this.showTab('call');
    if (ids.length) this.#dial.set(ids);
    this.#dial.input.focus();
  }

  #dialNow(mediaType: CallMediaType): void {
    const ids = this.#dial.take(this.#selfId);
    if (!ids) return;
    this.#dial.clear();
    this.actions.onCall(ids, mediaType);
  }

  #renderMe(): void {
    const id = this.#selfId;
    replaceChildren(
      this.#me,
      avatarEl(id, this.profiles.nameOf(id), this.profiles.avatarOf(id), 'sm'),
      h('div', { class: 'me-text' }, h('span', { class: 'me-name' }, this.profiles.nameOf(id)), h('span', { class: 'me-id' }, `@${id} · `, this.#link)),
    );
  }

  /** The people of recent calls, most recent first, one row each. */
  #renderContacts(): void {
    const seen = new Map<string, CallRecord>();
    for (const r of this.#records) {
      for (const u of otherParties(r, this.#selfId)) if (!seen.has(u)) seen.set(u, r);
      if (seen.size >= 6) break;
    }
    if (seen.size === 0) {
      replaceChildren(this.#contacts, h('li', { class: 'empty' }, 'People you call will show up here.'));
      return;
    }
    replaceChildren(
      this.#contacts,
      ...[...seen.keys()].map((u) => {
        const name = this.profiles.nameOf(u);
        return h(
          'li',
          { class: 'contact', attrs: { 'data-user': u } },
          avatarEl(u, name, this.profiles.avatarOf(u), 'md'),
          h('div', { class: 'contact-text' }, h('span', { class: 'contact-name' }, name), h('span', { class: 'contact-id' }, `@${u}`)),
          h('button', { class: 'icon-btn', attrs: { type: 'button', 'aria-label': `Audio call ${name}`, title: 'Audio call' }, on: { click: () => this.actions.onCall([u], CallMediaType.audio) } }, icon('phone')),
          h('button', { class: 'icon-btn accent', attrs: { type: 'button', 'aria-label': `Video call ${name}`, title: 'Video call' }, on: { click: () => this.actions.onCall([u], CallMediaType.video) } }, icon('video')),
        );
      }),
    );
  }
}
