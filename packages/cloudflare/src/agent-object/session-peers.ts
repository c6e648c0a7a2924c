import { DurableAgentsError, type LedgerEvent, type SessionPeers } from "@durable-agents/core";
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
}

/** Other sessions of the same agent, reached over DO-to-DO RPC through the namespace `binding`. */
export function sessionPeers(
  env: Record<string, unknown>,
  binding: string,
  agent: string,
): SessionPeers {
  return {
    async importFork(session, events, reason) {
      const namespace = env[binding] as DurableObjectNamespace | undefined;
      if (!namespace) {
        throw new TypeError(
          `the Durable Object binding "${binding}" is missing; set createAgentServer({ binding })`,
        );
      }
      const stub = namespace.get(
        namespace.idFromName(sessionObjectName(agent, session)),
      ) as unknown as SessionPeerStub;
      const refused = await stub.importFork(agent, session, events, reason);
      return refused ? Response.json(refused.body, { status: refused.status }) : undefined;
    },
  };
}

/** Runs `work`, turning a typed refusal into data for the caller on the other side of the RPC. */
export function asPeerResult(work: () => void): PeerRefusal | null {
  try {
    work();
    return null;
  } catch (error) {
    if (error instanceof DurableAgentsError) return { status: error.status, body: error.toJSON() };
    throw error;
  }
}
