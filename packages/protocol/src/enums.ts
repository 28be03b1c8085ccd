/**
 * Enums of the OpenCall contract. Member names and numbers are wire values shared with
 * TUICallEngine so apps migrating from it keep their constants.
 * @packageDocumentation
 */

/** Media of a call. */
export enum CallMediaType {
  none = 0,
  audio = 1,
  video = 2,
}

/** The local user's role in a call. */
export enum CallRole {
  none = 0,
  caller = 1,
  called = 2,
}

/** The local user's call status. */
export enum CallStatus {
  none = 0,
  waiting = 1,
  accept = 2,
}

/** Why a call (or one user's part in it) ended. End reasons describe what happened; they are not errors. */
export enum CallEndReason {
  unknown = 0,
  hangup = 1,
  reject = 2,
  noResponse = 3,
  offline = 4,
  lineBusy = 5,
  canceled = 6,
  otherDeviceAccepted = 7,
  otherDeviceReject = 8,
  endByServer = 9,
}

/** Network quality grade, from a MOS-style score (see docs/network-quality.md). */
export enum NetworkQuality {
  unknown = 0,
  excellent = 1,
  good = 2,
  poor = 3,
  bad = 4,
  vBad = 5,
  down = 6,
}

/** Which camera to open. */
export enum Camera {
  front = 0,
  back = 1,
}

/** Where audio plays out. */
export enum AudioPlaybackDevice {
  speakerphone = 0,
  earpiece = 1,
}

/** How a video fills its view. */
export enum FillMode {
  fill = 0,
  fit = 1,
}

/** Encoder orientation. */
export enum ResolutionMode {
  landscape = 0,
  portrait = 1,
}

/** Video rotation in degrees. */
export type Rotation = 0 | 90 | 180 | 270;

/** Supported encoder resolutions. */
export type VideoResolution = '640x360' | '960x540' | '1280x720' | '1920x1080';

/**
 * Scene of a call: `single` (one callee), `multi` (several, or grown by inviteUser/join),
 * `group` (`chatGroupId` set). Strings, because Tencent renumbered this enum.
 */
export type CallScene = 'single' | 'multi' | 'group';

/** Result of a call from one user's point of view, as stored in their record. */
export type CallResultKind = 'missed' | 'incoming' | 'outgoing';
