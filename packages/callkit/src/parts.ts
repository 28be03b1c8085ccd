/**
 * Building blocks the kit is made of, for host apps that want their own screens (sign-in, dialer,
 * history) to look like the kit: the DOM builder, icons, generated avatars, the user-id chip input,
 * toasts, call sounds and the error wording. `apps/web` uses them.
 * @packageDocumentation
 */
export { append, h, replaceChildren, setAttr, show } from './dom.js';
export type { Child, Handlers, Props } from './dom.js';
export { icon } from './icons.js';
export type { IconName } from './icons.js';
export { AVATAR_COLORS, accentColor, avatarDataUrl, avatarEl, colorFor, initials, isUsableAvatar } from './avatar.js';
export { IdListInput, USER_ID_PATTERN } from './ui/widgets.js';
export { Toasts } from './ui/Toasts.js';
export { IncomingNotice } from './call/notify.js';
export { describeError, formatDuration } from './call/outcomes.js';
