/**
 * Inbound webhooks: an agent's endpoints (`POST /hooks/{id}`), each with its own Standard
 * Webhooks signing secret; a delivery that verifies starts a run of the agent acting for no
 * person, and anything else is refused and recorded. See docs/webhooks.md.
 */
export { forgetExpiredDeliveries } from './deliveries.ts';
export {
  createWebhook,
  deleteWebhook,
  hookPath,
  listWebhooks,
  MAX_WEBHOOKS_PER_AGENT,
  rotateWebhookSecret,
  type WebhookInfo,
} from './endpoints.ts';
export { BODY_CHARS } from './message.ts';
export {
  type Accepted,
  type Delivery,
  REFUSAL_WINDOW_MS,
  REFUSALS_PER_WINDOW,
  type RunStarter,
  WebhookReceiver,
} from './receive.ts';
export { TOLERANCE_SECONDS } from './signature.ts';
