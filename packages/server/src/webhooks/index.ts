/**
 * Webhooks (SPEC §6.3): signing/verification for receivers and the outbox dispatcher.
 */
export { SIGNATURE_HEADER, signWebhook, verifyWebhook } from './sign.js';
export { MAX_RESPONSE_BYTES, WebhookDispatcher, retryDelayMs } from './WebhookDispatcher.js';
export type { WebhookDispatcherOptions, WebhookRetry, WebhookStats } from './WebhookDispatcher.js';
