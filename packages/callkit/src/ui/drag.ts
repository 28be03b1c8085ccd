/**
 * Moving an element with the pointer or the arrow keys (the own picture-in-picture, the floating
 * call window). The element moves by a CSS translate kept in custom properties, so the stylesheet
 * still decides where it starts and a layout change can reset it.
 * @packageDocumentation
 */

/** How far one arrow key press moves (px); Shift moves further. */
const KEY_STEP = 16;

/**
 * Lets `handle` drag `target` while `enabled()` says so. A press that does not move (a click on a
 * button inside) is left alone, and the element is kept inside the viewport.
 */
export function makeDraggable(target: HTMLElement, handle: HTMLElement, enabled: () => boolean): void {
  let start: { x: number; y: number; dx: number; dy: number; id: number } | null = null;
  const offset = (): { dx: number; dy: number } => ({ dx: Number(target.dataset.dx ?? 0), dy: Number(target.dataset.dy ?? 0) });
  const moveTo = (dx: number, dy: number): void => {
    // Keep at least 40 px of the element on screen.
    const r = target.getBoundingClientRect();
    // The window the element is in now (the call may have moved to a picture-in-picture window).
    const { innerWidth, innerHeight } = target.ownerDocument.defaultView ?? window;
    const cur = offset();
    const baseLeft = r.left - cur.dx;
    const baseTop = r.top - cur.dy;
    const x = Math.min(Math.max(dx, -baseLeft - r.width + 40), innerWidth - baseLeft - 40);
    const y = Math.min(Math.max(dy, -baseTop - r.height + 40), innerHeight - baseTop - 40);
    target.dataset.dx = String(Math.round(x));
    target.dataset.dy = String(Math.round(y));
    target.style.translate = `${Math.round(x)}px ${Math.round(y)}px`;
  };
  handle.addEventListener('pointerdown', (e) => {
    if (!enabled() || e.button !== 0 || (e.target as Element).closest('button')) return;
    const { dx, dy } = offset();
    start = { x: e.clientX, y: e.clientY, dx, dy, id: e.pointerId };
    handle.setPointerCapture(e.pointerId);
  });
  handle.addEventListener('pointermove', (e) => {
    if (!start || e.pointerId !== start.id) return;
    moveTo(start.dx + e.clientX - start.x, start.dy + e.clientY - start.y);
  });
  const end = (e: PointerEvent): void => {
    if (start?.id === e.pointerId) start = null;
  };
  handle.addEventListener('pointerup', end);
  handle.addEventListener('pointercancel', end);
  handle.addEventListener('keydown', (e) => {
    if (!enabled() || e.target !== handle) return;
    const step = e.shiftKey ? KEY_STEP * 4 : KEY_STEP;
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const m = moves[e.key];
    if (!m) return;
    e.preventDefault();
    const { dx, dy } = offset();
    moveTo(dx + m[0], dy + m[1]);
  });
}

/** Puts a dragged element back where the stylesheet places it. */
export function resetDrag(target: HTMLElement): void {
  delete target.dataset.dx;
  delete target.dataset.dy;
  target.style.translate = '';
}
