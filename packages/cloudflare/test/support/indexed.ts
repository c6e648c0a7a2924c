import { env, runInDurableObject, SELF } from "cloudflare:test";
import { mintIndexToken, mintSessionToken, type SessionsPage } from "@durable-agents/core";
import { expect } from "vitest";
import { BASE, isTerminal, type SessionHandle, session } from "./session.ts";
import { until } from "./until.ts";

/** A GET of the index's routes (`/sessions`, `/usage`), with an index token unless `token`. */
export async function indexGet(path: string, token?: string): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, {
    headers: { authorization: `Bearer ${token ?? (await mintIndexToken(env.AUTH_SECRET))}` },
  });
}

/** The sessions of agent `indexed` that `GET /sessions` lists (its first page). */
export async function listedSessions(): Promise<SessionsPage["sessions"]> {
  return ((await (await indexGet("/sessions?agent=indexed")).json()) as SessionsPage).sessions;
}

/** How many index messages the session's outbox still holds (0 before it has one). */
export async function outboxSize(stub: DurableObjectStub): Promise<number> {
  return runInDurableObject(stub, (_i, state) => {
    const rows = state.storage.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'outbox'")
      .toArray();
    if (rows[0]?.n === 0) return 0;
    return state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  });
}

/**
 * Waits until the session's outbox is empty: the index has caught up with it. A read that
 * fails (an injected crash reset the object while it was in flight) is read again.
 */
export async function indexCaughtUp(s: SessionHandle): Promise<void> {
  await until(
    () => outboxSize(s.stub()).catch(() => undefined),
    (n) => n === 0,
  );
}

/** Runs an `indexed` session to the end (its token naming `user` and `tags`) and waits until the index has caught up. */
export async function indexedRun(
  options: { user?: string; tags?: string[] } = {},
): Promise<SessionHandle> {
  const s = session("indexed");
  const token = await mintSessionToken(env.AUTH_SECRET, {
    agent: "indexed",
    session: s.session,
    ...options,
  });
  const start = await SELF.fetch(s.url("runs"), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ input: { message: "ping please" } }),
  });
  expect(start.status).toBe(202);
  await s.waitFor(isTerminal);
  await indexCaughtUp(s);
  return s;
}
