export { SubscriptionRegistry } from "./subscription-registry.ts";
export type { SubscriptionEffects, SubscriptionStorage } from "./subscription-types.ts";
