import { env, SELF } from "cloudflare:test";
import { type LedgerEvent, type Message, mintSessionToken } from "@durable-agents/core";

export const BASE = "http://agents.test";

export interface SessionHandle {
  readonly agent: string;
  readonly session: string;
  url(action: string, query?: string): string;
  /** fetch with this session's token attached. */
  fetch(input: string, init?: RequestInit): Promise<Response>;
  post(action: string, body?: unknown): Promise<Response>;
  get(action: string, query?: string): Promise<Response>;
  events(offset?: string): Promise<(LedgerEvent & { offset: string })[]>;
  messages(): Promise<Message[]>;
  stub(): DurableObjectStub;
  /** Polls the ledger until `predicate` holds for some event (or the time runs out). */
  waitFor(predicate: (e: LedgerEvent) => boolean, timeoutMs?: number): Promise<LedgerEvent>;
  status(): Promise<{ status: string; runId: string | null; offset: string }>;
}

let counter = 0;

export function session(agent: string, name = `s${Date.now()}_${++counter}`): SessionHandle {
  // Every session route needs a signed token (the fixture's AUTH_SECRET): see test/auth.test.ts.
  const token = mintSessionToken(env.AUTH_SECRET, { agent, session: name });
  const fetchAuthed = async (input: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${await token}`);
    return SELF.fetch(input, { ...init, headers });
  };
  const url = (action: string, query = "") =>
    `${BASE}/agents/${agent}/${name}/${action}${query ? `?${query}` : ""}`;
  const handle: SessionHandle = {
    agent,
    session: name,
    url,
    fetch: fetchAuthed,
    post: (action, body) =>
      fetchAuthed(url(action), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body:
          body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      }),
    get: (action, query) => fetchAuthed(url(action, query)),
    async events(offset = "-1") {
      const all: (LedgerEvent & { offset: string })[] = [];
      for (let next = offset; ; ) {
        // An object that is being aborted (a test crash) fails reads in flight: read again.
        const response = await fetchAuthed(url("events", `offset=${next}`));
        if (response.status >= 500) continue;
        const page = (await response.json().catch(() => undefined)) as
          | (LedgerEvent & { offset: string })[]
          | undefined;
        if (!page) continue;
        all.push(...page);
        next = response.headers.get("stream-next-offset") ?? next;
        if (response.headers.get("stream-up-to-date") === "true") return all;
      }
    },
    async messages() {
      const body = (await (await fetchAuthed(url("messages", "limit=200"))).json()) as {
        messages: Message[];
      };
      return body.messages;
    },
    stub: () => env.AGENTS.get(env.AGENTS.idFromName(`${agent}/${name}`)),
    async waitFor(predicate, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const found = (await handle.events()).find(predicate);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`timed out waiting for an event in ${agent}/${name}`);
    },
    async status() {
      return (await (await fetchAuthed(url("status"))).json()) as {
        status: string;
        runId: string | null;
        offset: string;
      };
    },
  };
  return handle;
}

const TERMINAL = new Set([
  "run.completed",
  "run.failed",
  "run.interrupted",
  "run.aborted",
  "run.waiting",
]);

export function isTerminal(event: LedgerEvent): boolean {
  return TERMINAL.has(event.kind);
}

/** The transcript of a ledger with run ids and timestamps removed, for comparing two runs. */
export function transcript(events: readonly LedgerEvent[]): unknown[] {
  return events.map(({ kind, data }) => ({
    kind,
    data: JSON.parse(
      JSON.stringify(data)
        .replace(/run_[0-9a-f]+/g, "RUN")
        .replace(/\bs\d+_\d+\b/g, "SESSION"),
    ),
  }));
}

declare global {
  namespace Cloudflare {
    interface Env {
      AGENTS: DurableObjectNamespace;
      AUTH_SECRET: string;
    }
  }
}

/** Any value with run ids and generated session names replaced, for comparing two runs. */
export function normalized<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value)
      .replace(/run_[0-9a-f]+/g, "RUN")
      .replace(/\bs\d+_\d+\b/g, "SESSION"),
  );
}
