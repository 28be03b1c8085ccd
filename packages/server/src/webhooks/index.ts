/**
 * Webhooks (SPEC §6.3): signing/verification for receivers and the outbox dispatcher.
 */
export { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook, verifyWebhook } from './sign.js';
export type { VerifyWebhookOptions, WebhookSignedFields } from './sign.js';
export { DEFAULT_RETENTION_MS, MAX_RESPONSE_BYTES, WebhookDispatcher, retryDelayMs } from './WebhookDispatcher.js';
export type { WebhookDispatcherOptions, WebhookRetry, WebhookStats } from './WebhookDispatcher.js';
export type {
  EndCallWebhook,
  MemberChangedWebhook,
  OfflinePushInfo,
  StartCallWebhook,
  TencentCallRecord,
  WebhookActionType,
  WebhookBody,
  WebhookCallbackCommand,
  WebhookUser,
  WebhookUserStatus,
} from './types.js';
