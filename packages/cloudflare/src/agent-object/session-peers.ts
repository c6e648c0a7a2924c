import {
  DurableAgentsError,
  errorFromWire,
  type LedgerEvent,
  type SessionPeers,
  type SubagentMessage,
  type SubagentPort,
  type ToolWorkflowResult,
} from "@durable-agents/core";
import { sessionObjectName } from "./session-path.ts";

/** A refusal that crosses the RPC boundary as data (RPC keeps an error's message, not its code). */
export interface PeerRefusal {
  readonly status: number;
  readonly body: unknown;
}

/** The RPC surface one session object offers another. */
export interface SessionPeerStub {
  importFork(
    agent: string,
    session: string,
    events: readonly LedgerEvent[],
    reason: string,
  ): Promise<PeerRefusal | null>;
  receiveSubagentMessage(message: SubagentMessage): Promise<PeerRefusal | null>;
  /** From a tool's Workflow instance: the outcome of one call (idempotent). */
  receiveToolResult(result: ToolWorkflowResult): Promise<PeerRefusal | null>;
}

/** The session object `agent/session` as an RPC stub (a missing binding: see `sessionNamespace`). */
export function stubFor<Stub = SessionPeerStub>(
  env: Record<string, unknown>,
  binding: string,
  agent: string,
  session: string,
): Stub {
  const namespace = sessionNamespace(env, binding);
  const id = namespace.idFromName(sessionObjectName(agent, session));
  return namespace.get(id) as unknown as Stub;
}

/** 500 `binding_missing`: the session objects' binding is not a Durable Object namespace. */
export class BindingMissingError extends DurableAgentsError {
  override name = "BindingMissingError";
  constructor(binding: string, found: unknown, setting: string) {
    super(
      "binding_missing",
      500,
      `the Durable Object binding "${binding}" is ${found === undefined ? "missing from env" : `not a Durable Object namespace (it is a ${typeof found})`}; bind the session class under that name in wrangler.jsonc ("durable_objects": { "bindings": [{ "name": "${binding}", "class_name": ... }] }), or name your binding with ${setting}`,
      false,
    );
  }
}

/**
 * The namespace of the session objects bound as `binding`. Throws BindingMissingError when
 * it is absent or not a namespace; `setting` names the option that picks the binding.
 */
export function sessionNamespace(
  env: Record<string, unknown>,
  binding: string,
  setting = "createAgentServer({ binding })",
): DurableObjectNamespace {
  const found = env[binding] as Partial<DurableObjectNamespace> | undefined;
  if (typeof found?.idFromName !== "function" || typeof found.get !== "function")
    throw new BindingMissingError(binding, found, setting);
  return found as DurableObjectNamespace;
}

/** Other sessions, reached over DO-to-DO RPC through the namespace `binding` (forks). */
export function sessionPeers(
  env: Record<string, unknown>,
  binding: string,
  agent: string,
): SessionPeers {
  return {
    async importFork(session, events, reason) {
      const stub = stubFor(env, binding, agent, session);
      const refused = await stub.importFork(agent, session, events, reason);
      if (refused) throw refusalError(refused);
    },
  };
}

/**
 * Sub-agent messages over DO-to-DO RPC. A thrown RPC error is transient (the
 * outbox retries); a refusal (no such agent, a conflicting run) is permanent.
 */
export function subagentPort(env: Record<string, unknown>, binding: string): SubagentPort {
  return {
    async send(message) {
      const target = message.type === "reply" ? message.parent : message;
      const stub = stubFor(env, binding, target.agent, target.session);
      const refused = await stub.receiveSubagentMessage(message);
      if (!refused) return undefined;
      const body = refused.body as { error?: { code?: string; message?: string } };
      return {
        code: body.error?.code ?? "refused",
        message: body.error?.message ?? `refused with status ${refused.status}`,
      };
    },
  };
}

/**
 * A peer's refusal as the typed error it was on the other side (RPC keeps only a thrown
 * error's message): the subclass its status names (`errorFromWire`), so `instanceof`
 * works as for an error thrown locally.
 */
export function refusalError(refused: PeerRefusal): DurableAgentsError {
  return errorFromWire(refused.status, refused.body, {
    code: "refused",
    message: `the other session refused with status ${refused.status}`,
  });
}

/** Runs `work`, turning a typed refusal into data for the caller on the other side of the RPC. */
export async function asPeerResult(work: () => void | Promise<void>): Promise<PeerRefusal | null> {
  try {
    await work();
    return null;
  } catch (error) {
    if (error instanceof DurableAgentsError) return { status: error.status, body: error.toJSON() };
    throw error;
  }
}
