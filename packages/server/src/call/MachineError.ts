import { ErrorCode } from '@opencall/protocol/wire';

/** A command the machine refuses: nothing changes, and the requester gets `code`. */
export class MachineError extends Error {
  override readonly name = 'MachineError';
  constructor(
    /** A stable error code from `ErrorCode`. */
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** The request is not allowed in the call's current state (-1203). */
  static state(message: string): MachineError {
    return new MachineError(ErrorCode.STATE_REFUSED, message);
  }

  /**
   * The call does not exist, or the requester is not in it (-1203): one answer for both, so a
   * stranger cannot tell whether a call id exists.
   */
  static notInCall(): MachineError {
    return new MachineError(ErrorCode.STATE_REFUSED, 'no such call, or you are not in it');
  }

  /** A parameter is invalid (-1202). */
  static param(message: string): MachineError {
    return new MachineError(ErrorCode.INVALID_PARAMETER, message);
  }

  /** Not supported in this scene (-1205). */
  static scene(message: string): MachineError {
    return new MachineError(ErrorCode.NOT_SUPPORTED_IN_SCENE, message);
  }
}
