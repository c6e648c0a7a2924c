export type { PendingDecision, RunOutcome, RunRead, RunWait } from "./run-calls.ts";
export { type StoreCall, type StoreCallContext, serveStoreCall } from "./store-call.ts";
