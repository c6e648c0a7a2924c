export {
  authenticatesItself,
  parseRegistryPath,
  type RegistryRoute,
  registryResource,
} from "./registry-path.ts";
export {
  SubscriptionRegistry,
  type SubscriptionRegistryOptions,
} from "./subscription-registry.ts";
export type { SubscriptionEffects, SubscriptionStorage } from "./subscription-types.ts";
