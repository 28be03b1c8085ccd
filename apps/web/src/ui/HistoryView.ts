/**
 * Call history: incoming, outgoing and missed calls with their duration, newest first, each with
 * "call back", "details" (the call's delivery trace, CallDetails.ts) and "delete". Records come
 * from `queryRecentCalls`; this view only draws them.
 * @packageDocumentation
 */
import { CallMediaType } from '@opencall/client';
import type { CallRecord } from '@opencall/client';
import type { ProfileBook } from '@opencall/callkit';
import { avatarEl, formatDuration, h, icon, replaceChildren } from '@opencall/callkit/parts';

/** The other people of a record, from this user's point of view. */
export function otherParties(record: CallRecord, selfId: string): string[] {
  const all = [record.inviter, ...record.inviteList];
  return [...new Set(all)].filter((u) => u !== selfId);
}

/** "Today 14:05", "Yesterday 09:12" or a short date. */
export function formatWhen(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const time = d.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  const day = (t: number): number => Math.floor((t - new Date(t).getTimezoneOffset() * 60_000) / 86_400_000);
  const diff = day(now) - day(ms);
  if (diff === 0) return time;
  if (diff === 1) return `Yesterday ${time}`;
  return `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

/** The history list. */
export class HistoryView {
  /** The view's root element. */
  readonly el: HTMLElement;
  readonly #list: HTMLElement;
  readonly #filterButtons: HTMLButtonElement[];
  #records: CallRecord[] = [];
  #filter: 'all' | 'missed' = 'all';
  #selfId = '';

  constructor(
    private readonly profiles: ProfileBook,
    private readonly actions: {
      onCall: (userIds: string[], mediaType: CallMediaType) => void;
      onDelete: (callId: string) => void;
      /** "Details" of a row; `opener` gets the focus back when the details close. */
      onDetails: (record: CallRecord, opener: HTMLElement) => void;
    },
  ) {
    this.#list = h('ul', { class: 'history-list', attrs: { 'aria-label': 'Recent calls' } });
    this.#filterButtons = (['all', 'missed'] as const).map((f) =>
      h(
        'button',
        { class: 'seg', attrs: { type: 'button', 'aria-pressed': f === 'all' ? 'true' : 'false', 'data-filter': f }, on: { click: () => this.#setFilter(f) } },
        f === 'all' ? 'All' : 'Missed',
      ),
    );
    this.el = h(
      'section',
      { class: 'panel history', attrs: { 'aria-labelledby': 'history-title' } },
      h('div', { class: 'panel-head' }, h('h2', { attrs: { id: 'history-title' } }, 'History'), h('div', { class: 'segmented', attrs: { role: 'group', 'aria-label': 'Show' } }, ...this.#filterButtons)),
      this.#list,
    );
    profiles.subscribe(() => this.#render());
  }

  /** Shows these records (newest first) for `selfId`. */
  setRecords(records: CallRecord[], selfId: string): void {
    this.#records = records;
    this.#selfId = selfId;
    this.#render();
  }

  /** Number of missed calls in the loaded records. */
  get missedCount(): number {
    return this.#records.filter((r) => r.result === 'missed').length;
  }

  #setFilter(filter: 'all' | 'missed'): void {
    this.#filter = filter;
    for (const b of this.#filterButtons) b.setAttribute('aria-pressed', b.dataset.filter === filter ? 'true' : 'false');
    this.#render();
  }

  #render(): void {
    const shown = this.#records.filter((r) => this.#filter === 'all' || r.result === 'missed');
    if (shown.length === 0) {
      replaceChildren(
        this.#list,
        h('li', { class: 'empty' }, h('span', { class: 'empty-icon' }, icon('history')), this.#filter === 'missed' ? 'No missed calls.' : 'No calls yet. Calls you make and receive appear here.'),
      );
      return;
    }
    replaceChildren(this.#list, ...shown.map((r) => this.#row(r)));
  }

  #row(r: CallRecord): HTMLElement {
    const others = otherParties(r, this.#selfId);
    const names = others.map((u) => this.profiles.nameOf(u)).join(', ') || 'Unknown';
    const first = others[0] ?? r.inviter;
    const video = r.mediaType === CallMediaType.video;
    const kind = r.result === 'missed' ? 'Missed' : r.result === 'incoming' ? 'Incoming' : 'Outgoing';
    const detail = [`${kind} ${video ? 'video' : 'audio'}`, r.totalTime > 0 ? formatDuration(r.totalTime) : r.result === 'outgoing' ? 'not answered' : null]
      .filter(Boolean)
      .join(' · ');
    return h(
      'li',
      { class: `history-item ${r.result}`, attrs: { 'data-call-id': r.callId, 'data-result': r.result } },
      avatarEl(first, this.profiles.nameOf(first), this.profiles.avatarOf(first), 'md'),
      h(
        'div',
        { class: 'history-main' },
        h(
          'span',
          { class: 'history-top' },
          h('span', { class: 'history-name', attrs: { title: names } }, others.length > 1 ? `${this.profiles.nameOf(first)} +${others.length - 1}` : names),
          h('time', { class: 'history-when', attrs: { datetime: new Date(r.beginTime).toISOString() } }, formatWhen(r.beginTime)),
        ),
        h(
          'span',
          { class: 'history-detail' },
          icon(r.result === 'missed' ? 'missed' : r.result === 'incoming' ? 'incoming' : 'outgoing', 'dir'),
          h('span', { class: 'history-text' }, detail),
        ),
      ),
      h(
        'button',
        {
          class: 'icon-btn call-back',
          attrs: { type: 'button', 'aria-label': `Call back ${names} (${video ? 'video' : 'audio'})`, title: 'Call back' },
          on: { click: () => this.actions.onCall(others, video ? CallMediaType.video : CallMediaType.audio) },
        },
        icon(video ? 'video' : 'phone'),
      ),
      h(
        'button',
        {
          class: 'icon-btn details',
          attrs: { type: 'button', 'aria-label': `Details of the call with ${names}`, title: 'Details: where it rang, each push, how it ended' },
          on: { click: (e) => this.actions.onDetails(r, e.currentTarget as HTMLElement) },
        },
        icon('info'),
      ),
      h(
        'button',
        { class: 'icon-btn delete', attrs: { type: 'button', 'aria-label': `Delete call with ${names}`, title: 'Delete' }, on: { click: () => this.actions.onDelete(r.callId) } },
        icon('trash'),
      ),
    );
  }
}
