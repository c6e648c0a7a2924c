export { type StoreCall, type StoreCallContext, serveStoreCall } from "./store-call.ts";
