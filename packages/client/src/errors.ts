/**
 * The one error class the engine rejects with. Codes come from the protocol's single code table so
 * client, server and docs never disagree; end reasons are not errors and never appear here.
 * @packageDocumentation
 */
import { ErrorCode, wireError } from '@opencall/protocol/wire';
import type { WireError } from '@opencall/protocol/wire';

/**
 * A failed engine request: `code` is a stable number from {@link ErrorCode} (-1201 … -1401, or a
 * UserSig refusal 70001/70003/70013/70014 passed through from the server), `message` says why.
 */
export class CallEngineError extends Error {
  /** Stable error code (see `ErrorCode` and docs/errors.md). */
  readonly code: number;

  /** Builds an error with an explicit code; prefer the static factories. */
  constructor(code: number, message: string) {
    super(message);
    this.name = 'CallEngineError';
    this.code = code;
  }

  /** -1201: the engine is not initialised (never was, was uninitialised, or was kicked offline). */
  static notInitialized(detail?: string): CallEngineError {
    return CallEngineError.#of(ErrorCode.NOT_INITIALIZED, detail);
  }

  /** -1202: a parameter is invalid (empty list, self, too many users, bad id, same media type...). */
  static invalidParameter(detail?: string): CallEngineError {
    return CallEngineError.#of(ErrorCode.INVALID_PARAMETER, detail);
  }

  /** -1203: refused in the current call state (nothing ringing, no call, in a call...). */
  static stateRefused(detail?: string): CallEngineError {
    return CallEngineError.#of(ErrorCode.STATE_REFUSED, detail);
  }

  /** -1204: the same method is already running on this engine. */
  static operationInProgress(method: string): CallEngineError {
    return CallEngineError.#of(ErrorCode.OPERATION_IN_PROGRESS, `${method}() is already running`);
  }

  /** -1205: not supported in this call scene (media switch in a multi/group call). */
  static notSupportedInScene(detail?: string): CallEngineError {
    return CallEngineError.#of(ErrorCode.NOT_SUPPORTED_IN_SCENE, detail);
  }

  /** -1401: signaling failed (unreachable server, lost connection, timeout, malformed answer). */
  static signalingFailed(detail?: string): CallEngineError {
    return CallEngineError.#of(ErrorCode.SIGNALING_FAILED, detail);
  }

  /** An error the server answered with; its code and message pass through unchanged. */
  static fromWire(error: WireError): CallEngineError {
    return new CallEngineError(error.code, error.message);
  }

  static #of(code: ErrorCode, detail?: string): CallEngineError {
    const e = wireError(code, detail);
    return new CallEngineError(e.code, e.message);
  }
}

/** True when `err` is a {@link CallEngineError} with `code`. */
export function isEngineError(err: unknown, code?: number): err is CallEngineError {
  return err instanceof CallEngineError && (code === undefined || err.code === code);
}
