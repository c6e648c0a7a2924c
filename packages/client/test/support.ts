/** Shared helpers of the client tests against the real core handler (real-server.ts). */
import { encodeOffset } from "@durable-agents/core";
import { createClient, type LedgerEvent, waitForRun } from "../src/index.ts";
import { ALL_AGENTS } from "./agents.ts";
import { type RealServer, type RealServerOptions, startRealServer } from "./real-server.ts";

/** Waits for `check` (bounded: a hang fails the test with what it waited for, not a timeout). */
export async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

export const fastRetry = { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 5 };

export function start(options: Partial<RealServerOptions> = {}): Promise<RealServer> {
  return startRealServer({ agents: ALL_AGENTS, ...options });
}

export async function collect(
  stream: AsyncIterable<LedgerEvent>,
  limit = Infinity,
): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for await (const event of stream) {
    out.push(event);
    if (out.length >= limit) break;
  }
  return out;
}

/** The session's ledger as stored, with the offsets the wire gives it. */
export function ledger(server: RealServer, agent: string, session: string): LedgerEvent[] {
  const { runtime } = server.session(agent, session);
  return runtime.ledger.read(0, 100_000).map((e) => ({ ...e, offset: encodeOffset(e.seq) }));
}

/** Runs the calculator agent's run to its end in `session`, and closes the session if asked. */
export async function finishedRun(
  server: RealServer,
  session: string,
  options: { close?: boolean } = {},
): Promise<LedgerEvent[]> {
  const handle = createClient({ baseUrl: server.url }).session("assistant", session);
  const run = await handle.start("What is 2+3?");
  await waitForRun(handle, { ...run, transport: "long-poll" });
  if (options.close) await handle.close();
  return ledger(server, "assistant", session);
}
