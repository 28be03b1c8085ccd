/**
 * The one table of stable error codes. Client-facing codes follow TUICallEngine, UserSig codes
 * follow Tencent IM, REST codes follow Tencent's call REST API; 4xxx codes are OpenCall's own
 * protocol refusals. docs/errors.md is checked against this table by a test.
 */
export const ErrorCode = {
  /** The engine has not been initialised (or was uninitialised, e.g. kicked offline). */
  NOT_INITIALIZED: -1201,
  /** A parameter is invalid: empty list, self, duplicates only, too many users, bad id, same media type. */
  INVALID_PARAMETER: -1202,
  /** The request is refused in the current state (nothing ringing, not in the call, busy elsewhere...). */
  STATE_REFUSED: -1203,
  /** The same method is already running on this engine. */
  OPERATION_IN_PROGRESS: -1204,
  /** Not supported in this scene (e.g. switching media type in a multi/group call). */
  NOT_SUPPORTED_IN_SCENE: -1205,
  /** A camera or microphone could not be opened (permission denied, no device, device busy). */
  DEVICE_ERROR: -1101,
  /** Signaling failed: connection lost, server unreachable, request timed out. */
  SIGNALING_FAILED: -1401,
  /** UserSig expired. */
  USERSIG_EXPIRED: 70001,
  /** UserSig malformed or its signature does not verify. */
  USERSIG_INVALID: 70003,
  /** UserSig was issued for another user id. */
  USERSIG_USER_MISMATCH: 70013,
  /** UserSig was issued for another sdkAppId. */
  USERSIG_SDKAPPID_MISMATCH: 70014,
  /** REST: internal server error. */
  REST_INTERNAL: 101001,
  /** REST: invalid parameter. */
  REST_INVALID_PARAMETER: 101002,
  /** REST: no such running call. */
  REST_NO_SUCH_CALL: 101004,
  /** A message is not JSON or does not match its schema. */
  MALFORMED_MESSAGE: 4001,
  /** A message type the server does not know. */
  UNKNOWN_MESSAGE_TYPE: 4002,
  /** A message larger than `limits.maxMessageBytes`. */
  MESSAGE_TOO_LARGE: 4003,
  /** A call request sent before a successful `auth`. */
  NOT_AUTHENTICATED: 4004,
  /** A protocol version the server does not speak. */
  UNSUPPORTED_VERSION: 4005,
  /** More messages per second than `limits.messagesPerSecondPerConnection`, or requests per IP. */
  RATE_LIMITED: 4029,
  /** More signed-in devices than `limits.maxDevicesPerUser`. */
  TOO_MANY_DEVICES: 4030,
  /** `POST /push/action`: the action token is forged, for another call or user, or past its deadline. */
  PUSH_TOKEN_REFUSED: 4031,
  /** The server is shutting down or storage is unavailable. */
  SERVER_UNAVAILABLE: 4503,
} as const;

/** A stable error code. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One-line description of every code, used in messages and docs/errors.md. */
export const ERROR_DESCRIPTIONS: Readonly<Record<ErrorCode, string>> = {
  [-1201]: 'not initialised: call init(userId, userSig) first',
  [-1202]: 'invalid parameter',
  [-1203]: 'refused in the current call state',
  [-1204]: 'the same method is already running',
  [-1205]: 'not supported in this call scene',
  [-1101]: 'camera or microphone unavailable',
  [-1401]: 'signaling failure',
  70001: 'UserSig expired',
  70003: 'UserSig malformed or signature invalid',
  70013: 'UserSig user id mismatch',
  70014: 'UserSig sdkAppId mismatch',
  101001: 'internal server error',
  101002: 'invalid parameter',
  101004: 'no such running call',
  4001: 'malformed message',
  4002: 'unknown message type',
  4003: 'message too large',
  4004: 'not authenticated',
  4005: 'unsupported protocol version',
  4029: 'rate limited',
  4030: 'too many devices signed in for this user',
  4031: 'push action token refused',
  4503: 'server unavailable',
};

/** The error shape carried on the wire. */
export interface WireError {
  code: number;
  message: string;
}

/** Builds a wire error for `code`, with an optional detail appended to the standard text. */
export function wireError(code: ErrorCode, detail?: string): WireError {
  const base = ERROR_DESCRIPTIONS[code];
  return { code, message: detail ? `${base}: ${detail}` : base };
}
