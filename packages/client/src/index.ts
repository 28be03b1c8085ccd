/**
 * `@opencall/client`: the OpenCall calling engine (TUICallEngine-compatible API) for browsers and
 * Node. Node media lives in the `@opencall/client/node` subpath.
 * @packageDocumentation
 */
export { CallEngine } from './CallEngine.js';
export { CallEngineError, isEngineError } from './errors.js';
export { CALL_EVENT_ARG_NAMES, CALL_EVENT_NAMES } from './events.js';
export type { AnyCallEventName, CallEventArgs, CallEventName, CallEventOfShortName, CallEventPayloads, CallEventShortName, CallObserver, ConnectionState, NetworkQualityInfo } from './events.js';
export type { CallEngineOptions, Logger, WebSocketConstructor } from './options.js';
export type { CallSnapshot } from './state/CallStore.js';
export type { Unsubscribe } from './util/TypedEmitter.js';
export type {
  DeviceInfo,
  DeviceKind,
  MediaAdapter,
  MediaCallContext,
  MediaEventName,
  MediaSignal,
  MediaTopology,
  MediaView,
  VideoEncoderParams,
  VideoRenderParams,
} from './media/MediaAdapter.js';
export { NullMedia } from './media/NullMedia.js';
export { createBrowserMedia, browserMediaAvailable } from './media/browser.js';
export type { BrowserMediaOptions } from './media/browser.js';
export { RtcMedia } from './media/RtcMedia.js';
export type { RtcMediaOptions } from './media/RtcMedia.js';
export { FakeMedia } from './media/FakeMedia.js';

// The protocol's enums and types, so applications need one import.
export {
  AudioPlaybackDevice,
  CallEndReason,
  CallMediaType,
  CallRole,
  CallStatus,
  Camera,
  ErrorCode,
  FillMode,
  NetworkQuality,
  ResolutionMode,
} from '@opencall/protocol/wire';
export type {
  CallObserverExtraInfo,
  CallParams,
  CallRecord,
  CallResultKind,
  CallScene,
  CallTimings,
  CallTraceStep,
  IceServer,
  OfflinePushInfo,
  PushTarget,
  RecentCallsFilter,
  RoomId,
  Rotation,
  UserProfile,
  VideoResolution,
} from '@opencall/protocol/wire';
