/**
 * A tiny DOM builder: the page has a handful of screens whose video elements must survive updates,
 * so screens build their elements once with {@link h} and then change them in place.
 * @packageDocumentation
 */

/** Something {@link h} can append: nodes, text, or nothing (for conditional children). */
export type Child = Node | string | null | undefined | false;

/** Event handlers by DOM event name. */
export type Handlers = { [E in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[E]) => void };

/** Attributes and handlers of {@link h}. */
export interface Props {
  /** `class` attribute. */
  class?: string;
  /** Any other attribute (aria-*, type, role…); `false`/`null` leaves it out, `true` sets it empty. */
  attrs?: Record<string, string | number | boolean | null | undefined>;
  /** Event listeners. */
  on?: Handlers;
}

/** Creates an element with attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  for (const [name, value] of Object.entries(props.attrs ?? {})) setAttr(el, name, value);
  for (const [name, handler] of Object.entries(props.on ?? {})) {
    el.addEventListener(name, handler as EventListener);
  }
  append(el, ...children);
  return el;
}

/** Appends children, skipping empty ones and turning strings into text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Replaces all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Sets, clears (`false`/`null`/`undefined`) or empties (`true`) an attribute. */
export function setAttr(el: Element, name: string, value: string | number | boolean | null | undefined): void {
  if (value === false || value === null || value === undefined) el.removeAttribute(name);
  else el.setAttribute(name, value === true ? '' : String(value));
}

/** Shows or hides an element (the `hidden` attribute, which the stylesheet honours). */
export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}
