import { useEffect, useMemo, useSyncExternalStore } from "react";
import { createClient, type DurableAgentsClient } from "../client.ts";
import type { EventsTransport } from "../event-stream.ts";
import { createSessionStore, type SessionSnapshot } from "../session-store.ts";

export interface UseAgentSessionOptions {
  readonly agent: string;
  readonly session: string;
  /** A client to share; otherwise one is made for `baseUrl`. */
  readonly client?: DurableAgentsClient;
  readonly baseUrl?: string;
  readonly transport?: EventsTransport;
}

export interface AgentSessionState extends SessionSnapshot {
  send(message: string): Promise<void>;
  /** Interrupts the run on the server: closing the tab does not, by design. */
  stop(): Promise<void>;
  approve(callId: string, approved: boolean, args?: unknown): Promise<void>;
}

/**
 * Follows a session live: messages (with text as it streams), status,
 * pending approvals, and the commands to act on them. Reconnects by itself
 * and never shows an event twice.
 *
 * @example
 * const { messages, status, send, stop } = useAgentSession({ agent: "assistant", session: id });
 */
export function useAgentSession(options: UseAgentSessionOptions): AgentSessionState {
  const { agent, session, client, baseUrl, transport } = options;
  const store = useMemo(() => {
    const c = client ?? createClient(baseUrl === undefined ? {} : { baseUrl });
    return createSessionStore(
      c.session(agent, session),
      transport === undefined ? {} : { transport },
    );
  }, [client, baseUrl, agent, session, transport]);
  useEffect(() => store.connect(), [store]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return useMemo(
    () => ({ ...snapshot, send: store.send, stop: store.stop, approve: store.approve }),
    [snapshot, store],
  );
}
