/**
 * "Details" of a history row: the call's delivery trace in plain words (who rang where and when,
 * each push with its service, answer and latency, whether the app or the notification showed it,
 * how each invitation ended). A modal panel over the home screen; Escape or Close returns focus to
 * the row's button.
 * @packageDocumentation
 */
import { CallMediaType } from '@opencall/client';
import type { CallRecord, CallTraceStep } from '@opencall/client';
import type { ProfileBook } from '@opencall/callkit';
import { formatDuration, h, icon, replaceChildren, show } from '@opencall/callkit/parts';
import { formatWhen, otherParties } from './HistoryView.js';
import { describeTrace } from './traceWords.js';
import type { Viewer } from './traceWords.js';

/** "14:05:03", 24-hour so the column stays narrow (seconds matter in a trace). */
function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
}

/** The details panel; one instance, reused for every row. */
export class CallDetails {
  /** The panel's root element (hidden until `open`). */
  readonly el: HTMLElement;
  readonly #title: HTMLElement;
  readonly #summary: HTMLElement;
  readonly #body: HTMLElement;
  readonly #close: HTMLButtonElement;
  #returnFocus: HTMLElement | null = null;
  /** The call shown now; a late answer for an earlier one is dropped. */
  #callId: string | null = null;
  /** The steps shown, drawn again when names arrive. */
  #steps: readonly CallTraceStep[] | null = null;
  /** Who is looking (their steps read "you", their device "this browser"). */
  #viewer: Viewer | null = null;

  constructor(private readonly profiles: ProfileBook) {
    this.#title = h('h2', { attrs: { id: 'details-title' } }, 'Call details');
    this.#summary = h('p', { class: 'details-summary' });
    this.#body = h('div', { class: 'details-body', attrs: { 'aria-live': 'polite' } });
    this.#close = h('button', { class: 'icon-btn', attrs: { type: 'button', 'aria-label': 'Close details', title: 'Close' }, on: { click: () => this.close() } }, icon('close'));
    this.el = h(
      'section',
      {
        class: 'overlay details',
        attrs: { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'details-title' },
        on: {
          keydown: (e) => {
            if (e.key === 'Escape') this.close();
          },
        },
      },
      h('header', { class: 'topbar' }, this.#title, this.#close),
      h('div', { class: 'panel details-panel' }, this.#summary, this.#body),
    );
    show(this.el, false);
    profiles.subscribe(() => {
      if (this.#callId && this.#steps) this.#render(this.#steps);
    });
  }

  /** Opens the panel for `record` (as `viewer` sees it) and shows "Loading…" until `setTrace`. */
  open(record: CallRecord, viewer: Viewer, opener: HTMLElement | null): void {
    this.#callId = record.callId;
    this.#steps = null;
    this.#viewer = viewer;
    this.#returnFocus = opener;
    const others = otherParties(record, viewer.userId);
    const names = others.map((u) => this.profiles.nameOf(u)).join(', ') || 'Unknown';
    const kind = record.result === 'missed' ? 'Missed' : record.result === 'incoming' ? 'Incoming' : 'Outgoing';
    const media = record.mediaType === CallMediaType.video ? 'video' : 'audio';
    const length = record.totalTime > 0 ? `talked ${formatDuration(record.totalTime)}` : 'not connected';
    this.#summary.textContent = `${kind} ${media} call with ${names} · ${formatWhen(record.beginTime)} · ${length}`;
    replaceChildren(this.#body, h('p', { class: 'details-note' }, 'Loading the delivery trace…'));
    show(this.el, true);
    this.#close.focus();
  }

  /** Shows the trace of the open call (ignored if another call was opened meanwhile). */
  setTrace(callId: string, steps: readonly CallTraceStep[]): void {
    if (callId !== this.#callId) return;
    this.#steps = steps;
    this.#render(steps);
  }

  #render(steps: readonly CallTraceStep[]): void {
    const viewer = this.#viewer ?? undefined;
    const nameOf = (u: string): string => (u === viewer?.userId ? 'You' : this.profiles.nameOf(u));
    const groups = describeTrace(steps, (u) => this.profiles.nameOf(u), viewer);
    if (groups.length === 0) {
      replaceChildren(this.#body, h('p', { class: 'details-note' }, 'Nothing was recorded for this call (it may be older than the trace, or you started it and nobody was invited).'));
      return;
    }
    replaceChildren(
      this.#body,
      ...groups.map((g) =>
        h(
          'section',
          { class: 'details-person', attrs: { 'data-user': g.userId, 'aria-label': `${nameOf(g.userId)}: ${g.summary}` } },
          h('h3', {}, nameOf(g.userId), h('span', { class: 'details-verdict' }, g.summary)),
          h(
            'ol',
            { class: 'trace' },
            ...g.lines.map((l) =>
              h(
                'li',
                { class: `trace-step ${l.tone}`, attrs: { 'data-step': l.step } },
                h('time', { attrs: { datetime: new Date(l.time).toISOString() } }, clock(l.time)),
                h('span', { class: 'trace-text' }, l.text),
              ),
            ),
          ),
        ),
      ),
    );
  }

  /** Shows why the trace could not be loaded. */
  setError(callId: string, message: string): void {
    if (callId !== this.#callId) return;
    replaceChildren(this.#body, h('p', { class: 'details-note error', attrs: { role: 'alert' } }, `Could not load the details: ${message}`));
  }

  /** Closes the panel and returns focus to the button that opened it. */
  close(): void {
    if (this.el.hidden) return;
    const callId = this.#callId;
    this.#callId = null;
    this.#steps = null;
    show(this.el, false);
    // The history may have been redrawn meanwhile: then the same row's new button takes the focus.
    const opener = this.#returnFocus?.isConnected
      ? this.#returnFocus
      : document.querySelector<HTMLElement>(`.history-item[data-call-id="${CSS.escape(callId ?? '')}"] .details`);
    opener?.focus();
    this.#returnFocus = null;
  }
}
