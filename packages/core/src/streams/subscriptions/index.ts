export {
  SubscriptionRegistry,
  type SubscriptionRegistryOptions,
} from "./subscription-registry.ts";
export type { SubscriptionEffects, SubscriptionStorage } from "./subscription-types.ts";
