/**
 * `@opencall/callkit`: the calling UI as a component (SPEC §10): a custom element and the
 * {@link CallKit} API. React users import `@opencall/callkit/react`.
 * @packageDocumentation
 */
export { CallKit } from './CallKit.js';
export type { CallKitOptions, CallKitSource } from './CallKit.js';
export type { CallInfo, CallKitHooks, ViewMode } from './KitView.js';
export { CALLKIT_TAG, OpenCallKitElement, defineCallKitElement } from './element.js';
export { MESSAGES, isLanguage } from './i18n/index.js';
export type { Language, MessageKey, Messages } from './i18n/index.js';
export { ProfileBook } from './profiles.js';
export type { ProfileLoader } from './profiles.js';
export { CallMediaType } from '@opencall/client';
