/**
 * Generated initials avatars. A person picks a colour at sign-in; the page turns name + colour into
 * a small SVG data URL and publishes it with `setSelfInfo`, so the people they call see the same
 * picture without any image being uploaded or downloaded. Unknown users get a colour derived from
 * their id.
 * @packageDocumentation
 */
import { h } from './dom.js';

/** Avatar background colours (all readable with white text). */
export const AVATAR_COLORS = ['#2563eb', '#7c3aed', '#db2777', '#dc2626', '#ea580c', '#16a34a', '#0d9488', '#475569'] as const;

/** Up to two initials from a display name (first letters of the first and last word). */
export function initials(name: string): string {
  const words = name.trim().split(/[\s._-]+/u).filter(Boolean);
  const first = words[0];
  if (!first) return '?';
  const last = words.length > 1 ? words[words.length - 1] : undefined;
  const chars = [...first].slice(0, 1).concat(last ? [...last].slice(0, 1) : []);
  return chars.join('').toUpperCase();
}

/** A stable palette colour for a user id (FNV-1a hash). */
export function colorFor(id: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return AVATAR_COLORS[(hash >>> 0) % AVATAR_COLORS.length] ?? AVATAR_COLORS[0];
}

const escapeXml = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

/** An SVG data URL of the initials on a coloured disc (a few hundred bytes; setSelfInfo allows 2048). */
export function avatarDataUrl(name: string, color: string): string {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="32" fill="${escapeXml(color)}"/>` +
    `<text x="32" y="33" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="26" font-weight="600" fill="#fff">${escapeXml(initials(name))}</text></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/**
 * The accent colour of a person: the disc colour of an avatar this page generated (read back from
 * its SVG), else the colour derived from the id.
 */
export function accentColor(userId: string, avatarUrl: string): string {
  if (avatarUrl.startsWith('data:image/svg+xml,')) {
    try {
      const m = /<rect [^>]*fill="(#[0-9a-fA-F]{6})"/u.exec(decodeURIComponent(avatarUrl.slice('data:image/svg+xml,'.length)));
      if (m?.[1]) return m[1];
    } catch {
      // Someone else's malformed data URL: fall back to the id's colour.
    }
  }
  return colorFor(userId);
}

/**
 * True for avatar URLs the page will load: inline (data:) images only. A remote (http/https)
 * picture would be fetched the moment a call rings, telling whoever set it (any caller) the
 * callee's IP address before they answer; the server's CSP (`img-src 'self' data: blob:`)
 * enforces the same rule. Remote avatars show as initials.
 */
export function isUsableAvatar(url: string): boolean {
  return /^data:image\/(svg\+xml|png|jpeg|gif|webp)[;,]/u.test(url);
}

/**
 * An avatar element: the profile picture when there is a usable one (falling back to initials if
 * it fails to load), otherwise initials on the user's colour.
 */
export function avatarEl(userId: string, name: string, avatarUrl: string, size: 'sm' | 'md' | 'lg' | 'xl' = 'md'): HTMLElement {
  const fallback = h('span', { class: `avatar avatar-${size}`, attrs: { 'aria-hidden': 'true' } }, initials(name || userId));
  fallback.style.background = colorFor(userId);
  if (!isUsableAvatar(avatarUrl)) return fallback;
  const img = h('img', { class: `avatar avatar-${size}`, attrs: { src: avatarUrl, alt: '', 'aria-hidden': 'true' } });
  img.addEventListener('error', () => img.replaceWith(fallback), { once: true });
  return img;
}
