/**
 * The kit's stylesheet, adopted by its shadow root (nothing global). Colours, radius and font are
 * CSS custom properties a host page may set on the element, e.g.
 * `opencall-callkit { --opencall-accent: #0ea5e9; --opencall-bg: #111; }`. Layouts: the phone
 * layout by default, the desktop layout when the kit is at least 720 px wide (a container query,
 * so it follows the kit's box, not the window), and the floating window (`data-mode="float"`).
 * In the browser's picture-in-picture window (`data-mode="pip"`) the kit fills that window.
 * @packageDocumentation
 */

/** The CSS of the kit's shadow root. */
export const KIT_CSS = `
:host { display: contents; }
.kit {
  all: initial;
  --bg: var(--opencall-bg, #0b1220);
  --surface: var(--opencall-surface, #121a2b);
  --surface-2: var(--opencall-surface-2, #1a2438);
  --line: var(--opencall-line, #26324a);
  --text: var(--opencall-text, #e8edf7);
  --muted: var(--opencall-muted, #93a0b8);
  --accent: var(--opencall-accent, #22c55e);
  --accent-ink: var(--opencall-accent-ink, #04210f);
  --danger: var(--opencall-danger, #ef4444);
  --warn: var(--opencall-warn, #f59e0b);
  --focus: var(--opencall-focus, #60a5fa);
  --call-bg: var(--opencall-call-bg, #05080f);
  position: fixed; inset: 0; z-index: var(--opencall-z-index, 2147483000);
  display: block; overflow: hidden; box-sizing: border-box;
  font-family: var(--opencall-font, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif);
  font-size: 16px; line-height: 1.3; color: var(--text); background: var(--call-bg); text-align: start;
  -webkit-font-smoothing: antialiased;
  container: kit / size;
}
:host([data-fill='element']) .kit { position: absolute; z-index: var(--opencall-z-index, 10); }
.kit *, .kit *::before, .kit *::after { box-sizing: border-box; }
.kit [hidden] { display: none !important; }
.kit[hidden] { display: none !important; }
button { font: inherit; color: inherit; cursor: pointer; }
button:disabled { cursor: default; opacity: .55; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
h1, h2, h3, p { margin: 0; }
.icon { width: 24px; height: 24px; flex: none; }
.overlay { position: absolute; inset: 0; z-index: 10; display: flex; flex-direction: column; }
.spinner { width: 12px; height: 12px; border-radius: 50%; border: 2px solid currentColor; border-right-color: transparent; animation: spin .8s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
.kit-link {
  position: absolute; top: 0; left: 0; right: 0; z-index: 30; display: flex; gap: 8px; align-items: center; justify-content: center;
  padding: 7px 12px; background: #7c2d12; color: #ffedd5; font-size: 13px;
}
.kit-link[data-state='disconnected'] { background: #450a0a; color: #fecaca; }
select {
  font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line); border-radius: 12px;
  min-height: 48px; padding: 0 12px; width: 100%;
}
.call-head-end { display: flex; align-items: center; gap: 6px; pointer-events: auto; }
.head-btn { color: #fff; background: rgba(0, 0, 0, .25); }
.head-btn:hover { background: rgba(255, 255, 255, .18); color: #fff; }
.kit[data-mode='full'] .maximise { display: none; }
.kit[data-mode='float'] :is(.minimise, .popout), .kit[data-mode='pip'] :is(.minimise, .popout) { display: none; }
.tile[data-slot='pip'] { cursor: grab; touch-action: none; }
/* Buttons */
.btn {
  display: inline-flex; align-items: center; justify-content: center; gap: 8px; min-height: 48px; padding: 0 20px;
  border-radius: 999px; border: 1px solid transparent; font-weight: 600; font-size: 16px;
}
.btn .icon { width: 20px; height: 20px; }
.btn.primary { background: var(--accent); color: var(--accent-ink); }
.btn.primary:hover:not(:disabled) { filter: brightness(1.08); }
.btn.secondary { background: transparent; border-color: var(--line); color: var(--text); }
.btn.secondary:hover:not(:disabled) { background: var(--surface-2); }
.btn.wide { width: 100%; }
.icon-btn {
  width: 44px; height: 44px; border-radius: 50%; border: 0; background: transparent; color: var(--muted);
  display: inline-flex; align-items: center; justify-content: center; flex: none;
}
.icon-btn:hover { background: var(--surface-2); color: var(--text); }
.icon-btn.accent { color: var(--accent); }
.icon-btn .icon { width: 22px; height: 22px; }

/* Forms */
.field { display: flex; flex-direction: column; gap: 6px; }
.field label, .field .label { font-size: 13px; color: var(--muted); font-weight: 500; }
input {
  font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line); border-radius: 12px;
  min-height: 48px; padding: 0 14px; width: 100%;
}
input::placeholder { color: #5c6982; }
input:focus { border-color: var(--focus); outline: none; box-shadow: 0 0 0 3px rgba(96, 165, 250, .25); }
.field-error, .form-error { color: #fca5a5; font-size: 13px; min-height: 1em; }
.notice { background: #3b2a0a; border: 1px solid #7c5a12; color: #fde68a; padding: 12px 14px; border-radius: 12px; font-size: 14px; }

/* Avatars */
.avatar {
  display: inline-flex; align-items: center; justify-content: center; border-radius: 50%; color: #fff; font-weight: 650;
  flex: none; object-fit: cover; user-select: none; background: #475569;
}
.avatar-sm { width: 36px; height: 36px; font-size: 14px; }
.avatar-md { width: 44px; height: 44px; font-size: 17px; }
.avatar-lg { width: 72px; height: 72px; font-size: 27px; }
.avatar-xl { width: 120px; height: 120px; font-size: 44px; }

.chip-input {
  display: flex; flex-wrap: wrap; gap: 6px; align-items: center; background: var(--bg); border: 1px solid var(--line);
  border-radius: 12px; padding: 6px; min-height: 52px;
}
.chip-input:focus-within { border-color: var(--focus); box-shadow: 0 0 0 3px rgba(96, 165, 250, .25); }
.chip-input input { border: 0; min-height: 38px; flex: 1; min-width: 120px; background: transparent; box-shadow: none; padding: 0 8px; }
.chips { display: contents; }
.chip { display: inline-flex; align-items: center; gap: 2px; background: var(--surface-2); border: 1px solid var(--line); border-radius: 999px; padding: 4px 4px 4px 12px; font-size: 14px; }
.chip-x { border: 0; background: transparent; color: var(--muted); width: 26px; height: 26px; border-radius: 50%; font-size: 17px; line-height: 1; }
.chip-x:hover { background: var(--line); color: var(--text); }
/* Round call buttons */
.round-btn { border: 0; background: transparent; display: flex; flex-direction: column; align-items: center; gap: 7px; padding: 0; min-width: 64px; }
.round-btn-disc {
  width: 60px; height: 60px; border-radius: 50%; display: flex; align-items: center; justify-content: center;
  background: rgba(255, 255, 255, .14); color: #fff; backdrop-filter: blur(8px); transition: transform .1s, background .15s;
}
.round-btn:hover:not(:disabled) .round-btn-disc { background: rgba(255, 255, 255, .22); }
.round-btn:active:not(:disabled) .round-btn-disc { transform: scale(.94); }
.round-btn.toggled .round-btn-disc { background: #f1f5f9; color: #0f172a; }
.round-btn.accept .round-btn-disc { background: var(--accent); color: #fff; }
.round-btn.danger .round-btn-disc { background: var(--danger); color: #fff; }
.round-btn-caption { font-size: 12.5px; color: rgba(255, 255, 255, .85); }
.round-btn:focus-visible { outline: none; }
.round-btn:focus-visible .round-btn-disc { outline: 3px solid var(--focus); outline-offset: 3px; }

/* Incoming */
.incoming {
  background: radial-gradient(120% 70% at 50% 20%, color-mix(in srgb, var(--caller-color, #2563eb) 55%, #0b1220) 0%, #0b1220 75%);
  justify-content: space-between; padding: 56px 24px 48px; text-align: center;
}
.incoming-body { display: flex; flex-direction: column; align-items: center; gap: 12px; }
.kicker { color: rgba(255, 255, 255, .8); font-size: 15px; letter-spacing: .02em; margin-bottom: 28px; }
.caller-name { font-size: 32px; letter-spacing: -.02em; margin-top: 18px; }
.caller-id, .with { color: rgba(255, 255, 255, .7); }
.answer-row { display: flex; justify-content: space-around; }
.answer-row .round-btn-disc { width: 72px; height: 72px; }
.answer-row .round-btn-disc .icon { width: 30px; height: 30px; }
.pulse { position: relative; display: inline-flex; }
.pulse::before, .pulse::after {
  content: ''; position: absolute; inset: 0; border-radius: 50%; border: 2px solid rgba(255, 255, 255, .35); animation: ring 2.4s ease-out infinite;
}
.pulse::after { animation-delay: 1.2s; }
@keyframes ring { from { transform: scale(1); opacity: .9; } to { transform: scale(1.7); opacity: 0; } }
@media (prefers-reduced-motion: reduce) { .pulse::before, .pulse::after { animation: none; } }

/* Call screen */
.call { background: #05080f; color: #fff; }
.call-head {
  position: absolute; top: 0; left: 0; right: 0; z-index: 3; display: flex; justify-content: space-between; align-items: flex-start;
  padding: 22px 20px 40px; background: linear-gradient(rgba(0, 0, 0, .55), transparent); pointer-events: none;
}
.call-title { font-size: 22px; letter-spacing: -.01em; text-shadow: 0 1px 3px rgba(0, 0, 0, .5); }
.call-status { color: rgba(255, 255, 255, .85); font-size: 15px; margin-top: 4px; font-variant-numeric: tabular-nums; }
.call .call-head .net { margin-top: 6px; }
.calling-card { position: absolute; inset: 0; z-index: 2; display: flex; flex-direction: column; align-items: center; justify-content: center; gap: 14px; pointer-events: none; }
.calling-more { color: rgba(255, 255, 255, .8); }
.mic-level { display: flex; align-items: center; gap: 8px; margin-top: 18px; padding: 6px 12px; border-radius: 999px; background: rgba(0, 0, 0, .35); }
.mic-level .icon { width: 18px; height: 18px; }
.mic-level-track { width: 120px; height: 6px; border-radius: 3px; background: rgba(255, 255, 255, .25); overflow: hidden; }
.mic-level-bar { display: block; height: 100%; background: var(--accent); transform-origin: left; transform: scaleX(var(--level, 0)); transition: transform .1s linear; }
.call[data-phase='outgoing'][data-media='video'] .calling-card .pulse { opacity: .95; }
.controls {
  position: absolute; bottom: 0; left: 0; right: 0; z-index: 4; display: flex; justify-content: center; gap: 10px; flex-wrap: wrap;
  padding: 40px 12px calc(28px + env(safe-area-inset-bottom)); background: linear-gradient(transparent, rgba(0, 0, 0, .6));
}
.stage { position: absolute; inset: 0; }
.stage[data-layout='calling'] { background: radial-gradient(100% 60% at 50% 35%, #1e293b, #05080f); }
.stage[data-layout='grid'] {
  display: grid; gap: 6px; padding: 92px 6px 150px; grid-template-columns: 1fr 1fr; grid-auto-rows: 1fr; background: #05080f;
}
.stage[data-layout='grid'][data-count='2'] { grid-template-columns: 1fr; }
/* Three people: two on top, the last one across the bottom, no empty cell. */
.stage[data-layout='grid'][data-count='3'] > .tile:last-child,
.stage[data-layout='grid'][data-count='5'] > .tile:last-child,
.stage[data-layout='grid'][data-count='7'] > .tile:last-child,
.stage[data-layout='grid'][data-count='9'] > .tile:last-child { grid-column: span 2; }
.stage[data-layout='duo'] { background: radial-gradient(100% 60% at 50% 35%, #1e293b, #05080f); }

.tile { position: relative; overflow: hidden; background: #111827; border-radius: 14px; display: flex; align-items: center; justify-content: center; }
.tile video { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: cover; background: #000; }
.tile video.mirror { transform: scaleX(-1); }
.tile[data-video='off'] video { visibility: hidden; }
.tile[data-video='on'] .tile-avatar { display: none; }
.tile-avatar { position: relative; z-index: 1; border-radius: 50%; transition: box-shadow .15s; }
.tile[data-speaking='true'] .tile-avatar { box-shadow: 0 0 0 4px var(--accent), 0 0 24px 4px rgba(34, 197, 94, .45); }
.tile[data-speaking='true'][data-video='on'] { box-shadow: inset 0 0 0 3px var(--accent); }
.tile[data-state='ringing'] { opacity: .75; }
.tile[data-state='ringing'] .tile-avatar { animation: breathe 1.6s ease-in-out infinite; }
@keyframes breathe { 50% { opacity: .55; } }
.tile-label {
  position: absolute; left: 8px; bottom: 8px; z-index: 2; display: flex; align-items: center; gap: 6px; max-width: calc(100% - 16px);
  background: rgba(0, 0, 0, .5); padding: 4px 8px; border-radius: 8px; font-size: 13px;
}
.tile-name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tile-muted { color: #fca5a5; display: inline-flex; }
.tile-muted .icon { width: 16px; height: 16px; }
.tile-status { position: absolute; top: calc(50% + 48px); z-index: 2; font-size: 13px; color: rgba(255, 255, 255, .8); }
.tile[data-slot='hidden'] { display: none; }
.tile[data-slot='background'] { position: absolute; inset: 0; border-radius: 0; }
.tile[data-slot='background'] .tile-avatar, .tile[data-slot='background'] .tile-label { display: none; }
.tile[data-slot='background'][data-video='off'] { display: none; }
.tile[data-slot='background'][data-video='on']::after { content: ''; position: absolute; inset: 0; background: rgba(5, 8, 15, .45); }
.tile[data-slot='main'] { position: absolute; inset: 0; border-radius: 0; background: transparent; }
.tile[data-slot='main'] .tile-label { bottom: 150px; left: 16px; }
.tile[data-slot='main'][data-video='off'] .tile-label { left: 50%; transform: translateX(-50%); bottom: auto; top: calc(50% + 78px); background: transparent; font-size: 17px; }
.tile[data-slot='pip'] {
  position: absolute; z-index: 3; top: 96px; right: 14px; width: 108px; aspect-ratio: 3 / 4; border-radius: 14px;
  box-shadow: 0 8px 24px rgba(0, 0, 0, .5); border: 1px solid rgba(255, 255, 255, .15);
}
.tile[data-slot='pip'] .tile-label { left: 4px; bottom: 4px; padding: 2px 6px; font-size: 11.5px; }
.tile[data-slot='pip'] .tile-label .net { display: none; }
.tile[data-slot='pip'] .avatar-lg { width: 48px; height: 48px; font-size: 19px; }

/* Network bars */
.net { display: inline-flex; align-items: flex-end; gap: 2px; height: 14px; flex: none; }
.net .bar { width: 3px; background: rgba(255, 255, 255, .25); border-radius: 1px; }
.net .b1 { height: 25%; } .net .b2 { height: 50%; } .net .b3 { height: 75%; } .net .b4 { height: 100%; }
.net[data-bars='1'] .b1, .net[data-bars='2'] :is(.b1, .b2), .net[data-bars='3'] :is(.b1, .b2, .b3), .net[data-bars='4'] .bar { background: var(--accent); }
.net:is([data-quality='poor']) .bar:is(.b1, .b2) { background: var(--warn); }
.net:is([data-quality='bad'], [data-quality='very bad']) .b1 { background: var(--danger); }
.net[data-quality='down'] .bar { background: rgba(239, 68, 68, .45); }

/* Outcome */
.outcome { background: rgba(5, 8, 15, .92); backdrop-filter: blur(10px); align-items: center; justify-content: center; padding: 24px; }
.outcome-card { display: flex; flex-direction: column; align-items: center; gap: 12px; text-align: center; max-width: 320px; }
.outcome-icon { width: 76px; height: 76px; border-radius: 50%; display: flex; align-items: center; justify-content: center; background: var(--surface-2); margin-bottom: 8px; }
.outcome-icon .icon { width: 36px; height: 36px; }
.outcome[data-tone='neutral'] .outcome-icon { color: #fca5a5; }
.outcome[data-tone='warn'] .outcome-icon { background: rgba(245, 158, 11, .15); color: var(--warn); }
.outcome[data-tone='error'] .outcome-icon { background: rgba(239, 68, 68, .15); color: var(--danger); }
.outcome-title { font-size: 24px; letter-spacing: -.01em; }
.outcome-detail { color: var(--muted); line-height: 1.45; }
.outcome-actions { display: flex; gap: 10px; margin-top: 14px; }
.outcome-actions .btn { min-width: 110px; }
.outcome-progress { position: absolute; left: 0; bottom: 0; height: 3px; width: 100%; background: var(--accent); transform-origin: left; transform: scaleX(0); }
.outcome.counting .outcome-progress { animation: countdown var(--outcome-ms, 3s) linear forwards; }
@keyframes countdown { from { transform: scaleX(1); } to { transform: scaleX(0); } }

/* Toasts */
.toasts { position: absolute; left: 0; right: 0; top: 64px; z-index: 40; display: flex; flex-direction: column; align-items: center; gap: 8px; pointer-events: none; padding: 0 16px; }
.toast {
  background: rgba(30, 41, 59, .96); border: 1px solid var(--line); color: var(--text); padding: 10px 16px; border-radius: 12px; font-size: 14px;
  box-shadow: 0 10px 30px rgba(0, 0, 0, .4); animation: toast-in .2s ease-out; max-width: 100%;
}
.toast.warn { border-color: #7c5a12; }
.toast.error { border-color: #7f1d1d; background: rgba(69, 10, 10, .96); }
.toast.leaving { opacity: 0; transition: opacity .3s; }
@keyframes toast-in { from { transform: translateY(-8px); opacity: 0; } }

/* Invite sheet */
.sheet {
  border: 1px solid var(--line); border-radius: 20px; background: var(--surface); color: var(--text); padding: 22px; width: min(400px, calc(100% - 24px));
  display: flex; flex-direction: column; gap: 16px;
}
.sheet:not([open]) { display: none; }
.sheet::backdrop { background: rgba(0, 0, 0, .6); }
.sheet h2 { font-size: 20px; }
.sheet-actions { display: flex; justify-content: flex-end; gap: 10px; }

/* Desktop: the call fills the window or the element; remote video large, own view movable. */
@container kit (min-width: 720px) {
  .call-head { padding: 24px 28px 48px; }
  .call-title { font-size: 24px; }
  .controls { gap: 16px; padding: 48px 24px 28px; }
  .tile[data-slot='pip'] { top: auto; bottom: 132px; right: 24px; width: clamp(200px, 22cqw, 320px); aspect-ratio: 4 / 3; }
  .tile[data-slot='pip'] .avatar-lg { width: 72px; height: 72px; font-size: 27px; }
  .tile[data-slot='main'] .tile-label { bottom: 132px; left: 28px; }
  .stage[data-layout='grid'] { padding: 96px 24px 132px; gap: 10px; grid-template-columns: repeat(3, 1fr); }
  .stage[data-layout='grid'][data-count='2'] { grid-template-columns: 1fr 1fr; }
  .stage[data-layout='grid'] > .tile:last-child { grid-column: auto; }
  /* The active speaker takes a 2×2 cell. */
  .stage[data-layout='grid']:not([data-count='2']) > .tile[data-active='true'] { grid-column: span 2; grid-row: span 2; }
  .incoming { padding: 10cqh 24px 8cqh; }
  .outcome-card { max-width: 420px; }
}

/* Floating window: small, draggable, the host page stays usable around it. */
.kit[data-mode='float'] {
  inset: auto 16px 16px auto; width: 240px; height: 340px; border-radius: 18px; position: fixed;
  box-shadow: 0 20px 50px rgba(0, 0, 0, .55); border: 1px solid rgba(255, 255, 255, .18); cursor: grab; touch-action: none;
}
:host([data-fill]) .kit[data-mode='float'] { position: fixed; inset: auto 16px 16px auto; z-index: var(--opencall-z-index, 2147483000); }
.kit[data-mode='float'] .call-head { padding: 10px 10px 24px; }
.kit[data-mode='float'] .call-title { font-size: 15px; }
.kit[data-mode='float'] .call-status { font-size: 13px; }
.kit[data-mode='float'] .call-head .net { display: none; }
.kit[data-mode='float'] .controls { padding: 16px 6px 10px; gap: 6px; }
.kit[data-mode='float'] .controls .round-btn:not(.danger):not([data-kind='mic']) { display: none; }
.kit[data-mode='float'] .round-btn { min-width: 0; }
.kit[data-mode='float'] .round-btn-disc { width: 44px; height: 44px; }
.kit[data-mode='float'] .round-btn-caption { display: none; }
.kit[data-mode='float'] .tile[data-slot='pip'] { top: 52px; right: 8px; width: 64px; }
.kit[data-mode='float'] .tile[data-slot='main'] .tile-label { display: none; }
.kit[data-mode='float'] .avatar-xl { width: 72px; height: 72px; font-size: 28px; }
.kit[data-mode='float'] .stage[data-layout='grid'] { padding: 48px 4px 70px; gap: 4px; }

/* Picture-in-picture window: the whole call in a small always-on-top window, controls on one row. */
.kit[data-mode='pip'] .controls { gap: 8px; padding: 24px 8px 14px; }
.kit[data-mode='pip'] .round-btn { min-width: 0; }
.kit[data-mode='pip'] .round-btn-disc { width: 48px; height: 48px; }
.kit[data-mode='pip'] .round-btn-caption { display: none; }
.kit[data-mode='pip'] .tile[data-slot='main'] .tile-label { bottom: 84px; }
.kit[data-mode='pip'] .call-head { padding: 14px 14px 32px; }
`;
