import {
  DurableAgentsError,
  type StoreCall,
  type StoreCallContext,
  serveStoreCall,
  TRUSTED_CALLER,
} from "@durable-agents/core";
import { type PeerRefusal, refusalError, stubFor } from "../agent-object/session-peers.ts";

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

/**
 * One session's store calls from Worker code: each call gets a fresh stub (a stub that saw
 * its object reset stays broken), and a refusal comes back as the typed error it was.
 */
export function sessionCall(
  env: Record<string, unknown>,
  binding: string,
  agent: string,
  session: string,
): <T>(call: StoreCall) => Promise<T> {
  return async <T>(call: StoreCall): Promise<T> => {
    const stub = stubFor<StoreStub>(env, binding, agent, session);
    const reply = await stub.storeCall(agent, session, call);
    if ("refusal" in reply) throw refusalError(reply.refusal);
    return reply.value as T;
  };
}
