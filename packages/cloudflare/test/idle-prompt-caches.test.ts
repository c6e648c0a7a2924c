import { env, runInDurableObject } from "cloudflare:test";
import { createAgentServer, routeRequest } from "@durable-agents/cloudflare";
import {
  defineAgent,
  isolateIdlePromptCaches,
  type LedgerEvent,
  type Message,
  mintSessionToken,
  scriptedModel,
} from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import {
  BudgetedSession,
  RetryingSession,
  recordedPrompts,
  retrierCalls,
} from "./fixture/budgeted.ts";
import { BASE, isTerminal } from "./support/session.ts";

/**
 * `createAgentServer({ idlePromptCacheBytes })`: the budget of the class's idle prompt caches
 * (core/src/agent/idle-prompt-caches.ts, tested there with real sessions), read when the class
 * is made, in workerd.
 */
describe("createAgentServer({ idlePromptCacheBytes })", () => {
  const agent = defineAgent({
    name: "budgeted",
    system: "x",
    model: scriptedModel({ turns: [{ text: "x" }] }),
  });

  it("refuses a budget that is not a number of bytes ≥ 0 when the class is made", () => {
    expect(() => createAgentServer({ agents: [agent], idlePromptCacheBytes: -1 })).toThrow(
      RangeError,
    );
    expect(() => createAgentServer({ agents: [agent], idlePromptCacheBytes: Number.NaN })).toThrow(
      /idle prompt cache budget must be a number of bytes ≥ 0, got NaN/,
    );
    expect(createAgentServer({ agents: [agent], idlePromptCacheBytes: 0 }).agents).toEqual([
      "budgeted",
    ]);
  });
});

/** A message as a line: its role, its texts, and the tools it calls or answers. */
function line(role: string, parts: readonly Record<string, unknown>[]): string {
  const shown = parts.map((p) =>
    p.type === "text" ? p.text : `${p.type}:${String(p.toolName ?? p.name)}`,
  );
  return `${role}: ${shown.join(" | ")}`;
}

/** A recorder session on BudgetedSession, routed as the Worker routes it. */
async function budgeted(name: string) {
  const token = await mintSessionToken(env.AUTH_SECRET, { agent: "recorder", session: name });
  const call = (action: string, init: RequestInit = {}) =>
    routeRequest(
      new Request(`${BASE}/agents/recorder/${name}/${action}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      }),
      { ...env, AGENTS: env.BUDGETED },
      undefined,
      { server: BudgetedSession },
    );
  const events = async () => (await (await call("events?offset=-1")).json()) as LedgerEvent[];
  return {
    name,
    stub: () => env.BUDGETED.get(env.BUDGETED.idFromName(`recorder/${name}`)),
    /** Starts a run and waits for it to complete; its run id. */
    async run(message: string, replaces?: string): Promise<string> {
      const response = await call("runs", {
        method: "POST",
        body: JSON.stringify({ input: { message, ...(replaces ? { replaces } : {}) } }),
      });
      expect(response.status).toBe(202);
      const { runId } = (await response.json()) as { runId: string };
      for (let i = 0; i < 800; i++) {
        const done = (await events()).find((e) => e.runId === runId && isTerminal(e));
        if (done) {
          expect(done.kind).toBe("run.completed");
          return runId;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`run ${runId} of ${name} did not complete`);
    },
    /** The conversation as the ledger has it, one line a message. */
    async conversation(): Promise<string[]> {
      const body = (await (await call("messages?limit=200")).json()) as { messages: Message[] };
      return body.messages.map((m) => line(m.role, m.parts as Record<string, unknown>[]));
    },
  };
}

describe("session objects of one class sharing its idle prompt cache budget, in workerd", () => {
  it("every object's model gets its own conversation, whatever the others and restarts did", async () => {
    const sessions = await Promise.all(
      ["a", "b", "c"].map((tag) => budgeted(`${tag}${Date.now()}`)),
    );
    const last = new Map<string, string>();
    for (let round = 0; round < 4; round++) {
      for (const [i, s] of sessions.entries()) {
        // About half the budget a message: the objects' idle caches do not all fit.
        const text = `[${s.name}] round ${round} ${"x".repeat(1_500 + 400 * i)}`;
        const replaces = round === 3 && i === 0 ? last.get(s.name) : undefined;
        const runId = await s.run(round % 2 === 1 ? `${text} tool` : text, replaces);
        last.set(s.name, runId);
        // The last call's prompt is the conversation up to the answer it gave.
        const prompts = recordedPrompts.get(s.name) ?? [];
        const prompt = prompts.at(-1) ?? [];
        expect(prompt[0]).toEqual({ role: "system", content: "Test agent recording its prompts." });
        const sent = prompt
          .slice(1)
          .map((m) => line(m.role, m.content as unknown as Record<string, unknown>[]));
        const conversation = await s.conversation();
        expect(sent).toEqual(conversation.slice(0, -1));
        expect(sent.filter((l) => l.startsWith("user:")).length).toBe(
          round === 3 && i === 0 ? 3 : round + 1,
        );
        for (const l of sent) if (l.startsWith("user:")) expect(l).toContain(`[${s.name}]`);
        // b's object restarts between its runs: a new instance, its cache gone with the old one.
        if (i === 1)
          await runInDurableObject(s.stub(), (_instance, state) =>
            state.abort("injected crash: restart"),
          ).catch(() => undefined);
      }
    }
    expect(sessions.every((s) => (recordedPrompts.get(s.name)?.length ?? 0) >= 6)).toBe(true);
  });
});

describe("a run waiting out its model's Retry-After, in workerd", () => {
  it("leaves its object's prompt cache in the isolate's budget for the wait, not in use outside it", async () => {
    const name = `retried${Date.now()}`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "retrier", session: name });
    const call = (action: string, init: RequestInit = {}) =>
      routeRequest(
        new Request(`${BASE}/agents/retrier/${name}/${action}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        }),
        { ...env, AGENTS: env.RETRYING },
        undefined,
        { server: RetryingSession },
      );
    const events = async () => (await (await call("events?offset=-1")).json()) as LedgerEvent[];
    const pause = () => new Promise((r) => setTimeout(r, 10));
    // RetryingSession's objects keep their idle caches in the isolate's budget (module state,
    // shared with this test): what it holds besides this object's cache.
    const before = isolateIdlePromptCaches.bytes;
    const size = 20_000;
    const response = await call("runs", {
      method: "POST",
      body: JSON.stringify({ input: { message: `[${name}] ${"x".repeat(size)}` } }),
    });
    expect(response.status).toBe(202);
    // The first model call is refused (503, Retry-After 60 s): the run waits for its retry.
    for (let i = 0; i < 500 && retrierCalls.get(name) === undefined; i++) await pause();
    expect(retrierCalls.get(name)).toBe(1);
    for (let i = 0; i < 100 && isolateIdlePromptCaches.bytes - before < size; i++) await pause();
    expect(isolateIdlePromptCaches.bytes - before).toBeGreaterThanOrEqual(size);
    const status = (await (await call("status")).json()) as { status: string };
    expect(status.status).toBe("running");
    expect(retrierCalls.get(name)).toBe(1);
    // Ended here rather than waited out: aborted, it stays idle, its cache still in the budget.
    expect((await call("abort", { method: "POST" })).status).toBe(202);
    for (let i = 0; i < 100 && !(await events()).some(isTerminal); i++) await pause();
    expect((await events()).at(-1)?.kind).toBe("run.aborted");
    expect(isolateIdlePromptCaches.bytes - before).toBeGreaterThanOrEqual(size);
  });
});

declare global {
  namespace Cloudflare {
    interface Env {
      BUDGETED: DurableObjectNamespace;
      RETRYING: DurableObjectNamespace;
    }
  }
}
