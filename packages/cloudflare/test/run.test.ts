import { runInDurableObject } from "cloudflare:test";
import { Ledger, SESSION_PROJECTIONS, systemClock } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { doSqlPort } from "../src/index.ts";
import { probe } from "./fixture/probe.ts";
import { isTerminal, session } from "./support/session.ts";

afterEach(() => probe.reset());

describe("a run in real workerd", () => {
  it("completes through alarms with a gap-free ledger and tools", async () => {
    const s = session("probe");
    const start = await s.post("runs", { input: { message: "go" } });
    expect(start.status).toBe(202);
    const done = await s.waitFor(isTerminal);
    expect(done.kind).toBe("run.completed");
    const events = await s.events();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.offset)).toEqual(events.map((e) => String(e.seq).padStart(16, "0")));
    expect(events.filter((e) => e.kind === "tool.completed")).toHaveLength(3);
    expect(events.filter((e) => e.kind === "step.started")).toHaveLength(3);
    expect((await s.status()).status).toBe("completed");
  });

  it("keeps the messages projection equal to a replay of the ledger", async () => {
    const s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const before = await s.messages();
    expect(before.map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
    ]);
    expect(before.at(-1)?.parts).toEqual([{ type: "text", text: "All done: one, two." }]);
    await runInDurableObject(s.stub(), (_instance, state) => {
      new Ledger(doSqlPort(state.storage), systemClock, SESSION_PROJECTIONS).rebuild();
    });
    expect(await s.messages()).toEqual(before);
  });

  it("streams a long answer as coalesced deltas whose text equals the final answer", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "talk" } });
    await s.waitFor(isTerminal);
    const events = await s.events();
    const deltas = events
      .filter((e) => e.kind === "model.delta")
      .map((e) => (e.data as { text: string }).text);
    const completed = events.find((e) => e.kind === "model.completed");
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join("")).toBe((completed!.data as { text: string }).text);
  });
});
