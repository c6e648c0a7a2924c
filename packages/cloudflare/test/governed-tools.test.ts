import { createAgentServer } from "@durable-agents/cloudflare";
import {
  AgentConfigError,
  type AgentDefinition,
  defineAgent,
  defineTool,
  type EventKind,
  type LedgerEvent,
  scriptedModel,
} from "@durable-agents/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as z from "zod";
import { isTerminal, session } from "./support/session.ts";

/**
 * Governed tools in workerd: `admit` refusals, domains and their allow-lists from env,
 * and `ctx.fetch` limited to them. The outbound fetch is the isolate's global fetch
 * (tests and objects share it), replaced here by a fake api.github.test.
 */
const ofKind = <K extends EventKind>(events: readonly LedgerEvent[], kind: K): LedgerEvent<K>[] =>
  events.filter((e) => e.kind === kind) as LedgerEvent<K>[];

afterEach(() => vi.restoreAllMocks());

function fakeGithub() {
  const original = globalThis.fetch;
  return vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.hostname === "api.github.test") {
      if (url.pathname === "/redirect-out")
        return new Response(null, { status: 302, headers: { location: "https://evil.example/x" } });
      return new Response(`github says hi to ${url.pathname}`);
    }
    if (url.hostname === "evil.example") return new Response("leaked");
    return original(input, init);
  });
}

describe("governed tools", () => {
  it("admit refuses a call (tool.failed with the reason, the model sees it) and the run goes on; ctx.fetch reaches only allow-listed hosts", async () => {
    const outbound = fakeGithub();
    const s = session("governed");
    expect((await s.post("runs", { input: { message: "go" } })).status).toBe(202);
    await s.waitFor(isTerminal);
    const events = await s.events();
    expect(events.at(-1)?.kind).toBe("run.completed");

    const failed = ofKind(events, "tool.failed");
    const completed = ofKind(events, "tool.completed");
    // Step 1: 500 refused by admit, 50 moved.
    const refusal = failed.find((e) => e.data.name === "transfer");
    expect(refusal?.data.error).toEqual({
      code: "tool_refused",
      message: "transfer was not admitted: transfers over 100 need a human (asked 500)",
    });
    expect(completed.find((e) => e.data.name === "transfer")?.data.result).toEqual({ moved: 50 });
    // The model's next prompt carries the refusal as the call's result.
    const messages = await s.messages();
    const results = messages.flatMap((m) => m.parts).filter((p) => p.type === "tool-result");
    expect(results.find((p) => p.type === "tool-result" && p.status === "failed")).toMatchObject({
      name: "transfer",
      error: { code: "tool_refused" },
    });

    // Step 2: the allowed host answers; another host and a redirect to it are refused.
    const lookups = completed.filter((e) => e.data.name === "lookup");
    expect(lookups.map((e) => e.data.result)).toEqual([
      { status: 200, body: "github says hi to /repos" },
    ]);
    const refusedHosts = failed.filter((e) => e.data.name === "lookup").map((e) => e.data.error);
    expect(refusedHosts).toHaveLength(2);
    for (const error of refusedHosts) {
      expect(error.code).toBe("host_not_allowed");
      expect(error.message).toContain("evil.example");
      expect(error.message).toContain("github");
    }
    const reached = outbound.mock.calls.map(([input, init]) => new Request(input, init).url);
    expect(reached.filter((u) => !u.startsWith("http://agents.test"))).toEqual([
      "https://api.github.test/repos",
      "https://api.github.test/redirect-out",
    ]);
  });

  it("a declared domain without an allow-list in env: the first request is refused with domain_not_configured, and so is every later one", async () => {
    const s = session("unconfigured");
    const response = await s.post("runs", { input: { message: "go" } });
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("domain_not_configured");
    expect(body.error.message).toContain('domain "slack"');
    expect(body.error.message).toContain("allow-list");
    // Reads are refused the same way: the session never opens.
    expect((await s.get("status")).status).toBe(500);
  });

  it("an undeclared domain is refused by defineAgent, by the type checker, and by createAgentServer", () => {
    const post = defineTool({
      name: "post",
      description: "Posts.",
      input: z.object({}),
      effect: "idempotent",
      authority: "external",
      domains: ["slack"],
      execute: () => ({}),
    });
    expect(() =>
      defineAgent({
        name: "nope",
        system: "x",
        model: scriptedModel({ turns: [{ text: "x" }] }),
        domains: { github: { allow: () => ["api.github.com"] } },
        // @ts-expect-error "slack" is not one of the agent's domains
        tools: [post],
      }),
    ).toThrow(/domain "slack", which the agent does not declare/);
    // An agent built without defineAgent (a factory's plain object) is refused at start.
    const raw: AgentDefinition = {
      name: "raw",
      system: "x",
      model: scriptedModel({ turns: [{ text: "x" }] }),
      tools: [post],
      maxSteps: 3,
    };
    expect(() => createAgentServer({ agents: [raw] })).toThrow(AgentConfigError);
    expect(() => createAgentServer({ agents: [raw] })).toThrow(/undeclared|does not declare/);
  });

  it("defineTool refuses an external tool without domains and domains on a non-external tool", () => {
    const base = {
      description: "x",
      input: z.object({}),
      effect: "pure" as const,
      execute: () => ({}),
    };
    expect(() => defineTool({ ...base, name: "a", authority: "external" })).toThrow(
      /names no domains/,
    );
    expect(() => defineTool({ ...base, name: "b", authority: "read", domains: ["x"] })).toThrow(
      /only authority "external" tools call out/,
    );
  });
});
