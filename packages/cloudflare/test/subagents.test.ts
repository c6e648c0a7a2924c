import { describe, expect, it } from "vitest";
import { isTerminal, session } from "./support/session.ts";

describe("sub-agents as child Durable Objects", () => {
  it("the parent waits without a held request, then resumes with each child's answer", async () => {
    const parent = session("lead");
    await parent.post("runs", { input: { message: "compare otters and beavers" } });
    const end = await parent.waitFor(
      (e) => e.kind === "run.completed" || e.kind === "run.failed",
      20_000,
    );
    expect(end.kind).toBe("run.completed");
    expect(end.data).toEqual({
      output: 'Summary: ["Findings about otters.","Findings about beavers."]',
    });
    const events = await parent.events();
    const kinds = events.map((e) => e.kind);
    expect(kinds).toContain("run.waiting");
    const started = events.filter((e) => e.kind === "subagent.started");
    expect(started).toHaveLength(2);
    for (const e of started) {
      const { session: childId } = e.data as { session: string };
      const child = session("researcher", childId);
      const childEvents = await child.events();
      expect(childEvents.filter((c) => c.kind === "run.started")).toHaveLength(1);
      expect(childEvents.at(-1)?.kind).toBe("run.completed");
    }
    const completed = events.filter((e) => e.kind === "subagent.completed");
    expect(completed).toHaveLength(2);
    for (const e of completed) {
      expect((e.data as { usage: { outputTokens: number } }).usage.outputTokens).toBeGreaterThan(0);
    }
  });

  it("a delegation to an agent the server does not have fails the call, not the wait", async () => {
    const parent = session("lead");
    await parent.post("runs", { input: { message: "haunt" } });
    // The run may wait first (the call is delegated, then fails): wait for its end, not a pause.
    const end = await parent.waitFor((e) => isTerminal(e) && e.kind !== "run.waiting", 20_000);
    expect(end.kind).toBe("run.completed");
    const failed = (await parent.events()).find((e) => e.kind === "tool.failed");
    expect(failed?.data).toMatchObject({ name: "haunt", error: { code: "agent_not_found" } });
  });
});
