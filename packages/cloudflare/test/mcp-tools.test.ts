import type { EventKind, LedgerEvent } from "@durable-agents/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chatRequest, uiChunks } from "../../../test/support/ui-message.ts";
import { mcpLab } from "./fixture/mcp-lab.ts";
import { probe } from "./fixture/probe.ts";
import { isTerminal, session } from "./support/session.ts";

/**
 * MCP tools in real workerd: the agent `mcp-lab` calls a real MCP SDK server (the
 * SDK's Web-standard server transport, in the same isolate) through the SDK's client.
 * Crashes abort the Durable Object (probe.crashSessionAt), as in fault-injection.test.ts.
 */
beforeEach(() => mcpLab.reset());
afterEach(() => {
  probe.open("mcp-slow");
  probe.reset();
});

const ofKind = <K extends EventKind>(events: readonly LedgerEvent[], kind: K): LedgerEvent<K>[] =>
  events.filter((e) => e.kind === kind) as LedgerEvent<K>[];

describe("MCP tools in workerd", () => {
  it("a pure, a slow and a failing MCP tool: the ledger, usage and UI stream show them like local tools", async () => {
    const s = session("mcp-lab");
    // Started the way useChat starts a run, so the response is the run's UI message stream.
    const response = await s.fetch(s.url("ui-stream"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chatRequest("all")),
    });
    const chunks = uiChunks(await response.text());
    const events = await s.events();
    expect(events.at(-1)?.kind).toBe("run.completed");
    const [listed] = ofKind(events, "mcp.tools_listed");
    expect(listed?.data.tools.map((t) => t.name)).toEqual(["add", "slow", "fail", "charge"]);
    const started = ofKind(events, "tool.started");
    expect(started.map((e) => [e.data.name, e.data.effect])).toEqual([
      ["add", "pure"],
      ["slow", "idempotent"],
      ["fail", "irreversible"],
    ]);
    for (const e of started)
      expect(probe.executions(`mcp:${e.data.name}:${e.data.idempotencyKey}`)).toBe(1);
    expect(
      ofKind(events, "tool.completed")
        .map((e) => e.data.name)
        .sort(),
    ).toEqual(["add", "slow"]);
    expect(ofKind(events, "tool.failed").map((e) => e.data.error.code)).toEqual(["mcp_tool_error"]);
    expect(ofKind(events, "model.completed").at(-1)?.data.text).toContain("slow x done");

    const usage = (await (await s.get("usage")).json()) as {
      tools: { name: string; calls: number; failures: number }[];
    };
    expect(usage.tools).toEqual([
      { name: "add", calls: 1, failures: 0 },
      { name: "fail", calls: 1, failures: 1 },
      { name: "slow", calls: 1, failures: 0 },
    ]);
    const count = (type: string) => chunks.filter((c) => c.type === type).length;
    expect(chunks.filter((c) => c.type === "tool-input-available").map((c) => c.toolName)).toEqual([
      "add",
      "slow",
      "fail",
    ]);
    expect(count("tool-output-available")).toBe(2);
    expect(count("tool-output-error")).toBe(1);
    expect(chunks.at(-1)).toMatchObject({ type: "finish" });
  });

  it("a crash after tool.started of an MCP call with the default effect pauses the run with tool.outcome_unknown", async () => {
    const s = session("mcp-lab");
    probe.crashSessionAt(s.session, "after-tool-started");
    await s.post("runs", { input: { message: "charge" } });
    const waiting = await s.waitFor((e) => e.kind === "run.waiting" || isTerminal(e));
    expect(waiting.kind).toBe("run.waiting");
    const events = await s.events();
    expect(ofKind(events, "tool.outcome_unknown").map((e) => e.data.name)).toEqual(["charge"]);
    expect((waiting.data as { reason: string }).reason).toBe("outcome_unknown");
    const [started] = ofKind(events, "tool.started");
    expect(started?.data.effect).toBe("irreversible");
    expect(probe.executions(`mcp:charge:${started?.data.idempotencyKey}`)).toBe(0);
  });

  it("an idempotent MCP call lost in a crash is re-sent with the same key", async () => {
    const s = session("mcp-lab");
    probe.crashSessionAt(s.session, "before-tool-commit");
    await s.post("runs", { input: { message: "slow" } });
    await s.waitFor(isTerminal);
    const events = await s.events();
    expect(events.at(-1)?.kind).toBe("run.completed");
    const [started] = ofKind(events, "tool.started");
    expect(probe.executions("fault:before-tool-commit")).toBe(1);
    expect(probe.executions(`mcp:slow:${started?.data.idempotencyKey}`)).toBe(2);
    expect(ofKind(events, "tool.completed")).toHaveLength(1);
    expect(ofKind(events, "mcp.tools_listed")).toHaveLength(1);
  });

  it("the server going down mid-call ends the call in tool.failed, and the run continues", async () => {
    const s = session("mcp-lab");
    probe.close("mcp-slow");
    await s.post("runs", { input: { message: "slow" } });
    const started = await s.waitFor((e) => e.kind === "tool.started");
    const key = (started.data as { idempotencyKey: string }).idempotencyKey;
    for (let i = 0; i < 200 && probe.executions(`mcp:slow:${key}`) === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    mcpLab.goDown();
    await s.waitFor(isTerminal);
    const events = await s.events();
    expect(ofKind(events, "tool.failed").map((e) => e.data.error.code)).toEqual([
      "mcp_unreachable",
    ]);
    expect(events.at(-1)?.kind).toBe("run.completed");
  });
});
