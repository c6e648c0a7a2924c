import {
  DurableAgentsError,
  type StoreCall,
  type StoreCallContext,
  serveStoreCall,
  TRUSTED_CALLER,
} from "@durable-agents/core";
import type { PeerRefusal } from "../agent-object/session-peers.ts";

/** A store call's answer across DO RPC: its value, or a typed refusal as data. */
export type StoreReply = { readonly value: unknown } | { readonly refusal: PeerRefusal };

/** The RPC method a session object offers Worker code (see createStore). */
export interface StoreStub {
  storeCall(agent: string, session: string, call: StoreCall): Promise<StoreReply>;
}

/**
 * Serves one store call in the session object. The caller is TRUSTED_CALLER: Worker code
 * that holds the namespace binding is the app itself (the same trust as `env.AGENTS.get`),
 * so no token is asked for; hooks still run on the status compare-and-set's command.
 * `open` resolves the agent and opens the session: its refusals (an unknown agent) come
 * back typed too.
 */
export async function serveStoreRpc(
  call: StoreCall,
  open: () => Omit<StoreCallContext, "caller" | "transport">,
): Promise<StoreReply> {
  try {
    const context = { ...open(), caller: TRUSTED_CALLER, transport: "store" };
    return { value: await serveStoreCall(call, context) };
  } catch (error) {
    if (error instanceof DurableAgentsError)
      return { refusal: { status: error.status, body: error.toJSON() } };
    throw error;
  }
}
