export {
  acknowledge,
  enqueue,
  OUTBOX_DELIVERY_KEY,
  OUTBOX_KIND,
  type OutboxMessage,
  outboxLagMs,
  outboxProjection,
  outboxSize,
  type PendingMessage,
  pendingMessages,
} from "./outbox.ts";
export { OutboxDelivery, type OutboxDeliveryOptions } from "./outbox-delivery.ts";
