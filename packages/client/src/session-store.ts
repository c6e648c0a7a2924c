/**
 * A live, framework-free store of one session's view, for UIs: subscribe,
 * read a snapshot, send, stop and approve. `useAgentSession` is a thin React
 * wrapper over it; other frameworks can use it directly.
 */
import type { EventsTransport } from "./event-stream.ts";
import type { AgentSession } from "./session.ts";
import { EMPTY_VIEW, reduceView, type SessionView } from "./session-view.ts";

export interface SessionSnapshot extends SessionView {
  /** True while the store is following the ledger live. */
  readonly connected: boolean;
  /** The last error from reading or from a command; cleared by the next success. */
  readonly error: Error | undefined;
}

export interface SessionStore {
  getSnapshot(): SessionSnapshot;
  subscribe(listener: () => void): () => void;
  /** Starts following the ledger; returns the function that stops. Safe to call again after stopping. */
  connect(): () => void;
  /** Starts a run with a user message. */
  send(message: string): Promise<void>;
  /** Soft-stops the running run on the server (not just this client). */
  stop(): Promise<void>;
  approve(callId: string, approved: boolean, args?: unknown): Promise<void>;
}

export interface SessionStoreOptions {
  readonly transport?: EventsTransport;
}

export function createSessionStore(
  session: AgentSession,
  options: SessionStoreOptions = {},
): SessionStore {
  let snapshot: SessionSnapshot = { ...EMPTY_VIEW, connected: false, error: undefined };
  const listeners = new Set<() => void>();
  const set = (next: Partial<SessionSnapshot>) => {
    snapshot = { ...snapshot, ...next };
    for (const listener of listeners) listener();
  };
  const command = async (call: () => Promise<unknown>) => {
    try {
      await call();
      if (snapshot.error !== undefined) set({ error: undefined });
    } catch (error) {
      set({ error: asError(error) });
      throw error;
    }
  };

  return {
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    connect() {
      const controller = new AbortController();
      const follow = async () => {
        set({ connected: true });
        // Resumes after the last event folded in, so reconnecting never folds an event twice.
        const events = session.events({
          offset: snapshot.offset,
          signal: controller.signal,
          ...(options.transport === undefined ? {} : { transport: options.transport }),
        });
        for await (const event of events) {
          // A stopped follower may still hold a batch; a new one may already have folded it.
          if (controller.signal.aborted) break;
          if (snapshot.offset !== "-1" && event.offset <= snapshot.offset) continue;
          set({ ...reduceView(snapshot, event), error: undefined });
        }
      };
      follow().then(
        () => set({ connected: false }),
        (error: unknown) =>
          set({
            connected: false,
            ...(controller.signal.aborted ? {} : { error: asError(error) }),
          }),
      );
      return () => controller.abort();
    },
    send: (message) => command(() => session.start(message)),
    stop: () => command(() => session.interrupt()),
    approve: (callId, approved, args) =>
      command(() => session.approve(callId, approved, args === undefined ? {} : { args })),
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
