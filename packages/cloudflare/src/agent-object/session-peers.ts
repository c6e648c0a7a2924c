import {
  DurableAgentsError,
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

/** The session object `agent/session` as an RPC stub (a missing binding throws a TypeError that says what to set). */
export function stubFor<Stub = SessionPeerStub>(
  env: Record<string, unknown>,
  binding: string,
  agent: string,
  session: string,
): Stub {
  const namespace = env[binding] as DurableObjectNamespace | undefined;
  if (!namespace) {
    throw new TypeError(
      `the Durable Object binding "${binding}" is missing; set createAgentServer({ binding })`,
    );
  }
  const id = namespace.idFromName(sessionObjectName(agent, session));
  return namespace.get(id) as unknown as Stub;
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

/** A peer's refusal as the typed error it was on the other side (RPC keeps only its message). */
export function refusalError(refused: PeerRefusal): DurableAgentsError {
  const body = refused.body as {
    error?: { code?: string; message?: string; details?: Record<string, unknown> };
  };
  return new DurableAgentsError(
    body.error?.code ?? "refused",
    refused.status,
    body.error?.message ?? `the other session refused with status ${refused.status}`,
    false,
    body.error?.details === undefined ? {} : { details: body.error.details },
  );
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
