export { LockHeldError, StaleFencingTokenError } from "./lock-errors.ts";
export { type AcquireOptions, type Lease, LockManager } from "./lock-manager.ts";
export { type AcquireResult, type HolderResult, type LockInfo, LockObject } from "./lock-object.ts";
export {
  decideAcquire,
  decideFence,
  decideRefresh,
  decideRelease,
  type LockState,
} from "./lock-state.ts";
