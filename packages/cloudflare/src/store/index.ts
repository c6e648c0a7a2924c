export {
  type AgentStore,
  createStore,
  type DeletedEntries,
  type SessionId,
  type SessionStore,
  type StoreOptions,
} from "./create-store.ts";
export type { StoreReply, StoreStub } from "./store-rpc.ts";
