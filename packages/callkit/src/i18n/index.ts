/**
 * The kit's languages: the message tables, the current language, and {@link t}, which every
 * visible or announced string of the kit goes through. Screens subscribe with
 * {@link onLanguageChange} and relabel themselves, so a switch applies during a call.
 * @packageDocumentation
 */
import { en } from './en.js';
import type { MessageKey, Messages } from './en.js';
import { ja } from './ja.js';
import { zhCn } from './zh-cn.js';

export type { MessageKey, Messages };

/** A language of the kit (SPEC §10). */
export type Language = 'en' | 'zh-cn' | 'ja';

/** Every message table by language. */
export const MESSAGES: { readonly [L in Language]: Messages } = { en, 'zh-cn': zhCn, ja };

/** Placeholder values of a message. */
export type MessageVars = Record<string, string | number>;

let current: Language = 'en';
const listeners = new Set<() => void>();

/** True for a supported language code. */
export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.hasOwn(MESSAGES, value);
}

/** The current language. */
export function language(): Language {
  return current;
}

/** Switches the language and tells every subscribed screen. */
export function setLanguage(lang: Language): void {
  if (!isLanguage(lang)) throw new TypeError(`unsupported language ${String(lang)}: use one of ${Object.keys(MESSAGES).join(', ')}`);
  if (lang === current) return;
  current = lang;
  for (const l of [...listeners]) l();
}

/** Subscribes to language switches; returns the unsubscribe function. */
export function onLanguageChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The message `key` in the current language, with `{placeholders}` filled from `vars`. */
export function t(key: MessageKey, vars: MessageVars = {}): string {
  const text = MESSAGES[current][key];
  return text.replace(/\{(\w+)\}/gu, (whole, name: string) => (Object.hasOwn(vars, name) ? String(vars[name]) : whole));
}
