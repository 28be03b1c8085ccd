/** The delivery trace's answer shapes: REST (SPEC §9 `get_call_trace`) and signaling (`call.trace`). */
import type { CallTraceStep } from '@opencall/protocol';
import type { TraceRow } from '../storage/push.js';

/** One step as `get_call_trace` answers it. */
export interface RestTraceStep {
  UserId: string;
  DeviceId?: string;
  Step: string;
  Time: number;
  Detail?: Record<string, unknown>;
}

/** A stored trace row in the signaling shape (`call.trace`, `engine.getCallTrace`). */
export function wireTraceStep(r: TraceRow): CallTraceStep {
  return {
    userId: r.userId,
    ...(r.deviceId ? { deviceId: r.deviceId } : {}),
    step: r.step,
    time: r.time,
    ...(r.detail ? { detail: JSON.parse(r.detail) as Record<string, unknown> } : {}),
  };
}

/** A stored trace row in the REST shape. */
export function restTraceStep(r: TraceRow): RestTraceStep {
  return {
    UserId: r.userId,
    ...(r.deviceId ? { DeviceId: r.deviceId } : {}),
    Step: r.step,
    Time: r.time,
    ...(r.detail ? { Detail: JSON.parse(r.detail) as Record<string, unknown> } : {}),
  };
}
