import { env, introspectWorkflow } from "cloudflare:test";
import type { LedgerEvent } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { toolWorkflowPort } from "../src/workflows/workflow-port.ts";
import { type ToolWorkflowSide, workflowSides } from "../src/workflows/workflow-sides.ts";
import { probe } from "./fixture/probe.ts";
import { session } from "./support/session.ts";

/**
 * A Worker that does not export `createToolWorkflow`, in real workerd: the fixture Worker
 * exports it, so its isolate has the tool executor's side installed (workflow-sides.ts);
 * taking that side out before a new session object opens is what the object of a Worker that
 * never calls createToolWorkflow reads.
 */

const sides = workflowSides() as { tool?: ToolWorkflowSide };
const installed = sides.tool;

afterEach(() => {
  sides.tool = installed;
  probe.reset();
});

const ended = (e: LedgerEvent) =>
  e.kind === "run.completed" || e.kind === "run.failed" || e.kind === "run.aborted";

describe("a workflow tool on a Worker without createToolWorkflow", () => {
  it("fails at its start with what to export; the ledger names no instance, and none is created", async () => {
    expect(installed).toBeDefined();
    const instances = await introspectWorkflow(env.TOOL_WORKFLOW);
    try {
      sides.tool = undefined;
      const s = session("workflower");
      expect((await s.post("runs", { input: { message: "crunch 21" } })).status).toBe(202);
      const end = await s.waitFor(ended, 20_000);
      expect(end.kind).toBe("run.completed");
      const events = await s.events();
      expect(events.map((e) => e.kind)).not.toContain("workflow.started");
      const started = events.findIndex((e) => e.kind === "tool.started");
      expect(events[started + 1]).toMatchObject({
        kind: "tool.failed",
        data: {
          name: "crunch",
          error: {
            code: "workflows_unavailable",
            message: expect.stringContaining("export createToolWorkflow"),
          },
        },
      });
      expect(await instances.get()).toEqual([]);
    } finally {
      await instances.dispose();
    }
  });

  it("a port without its binding says so before any call", () => {
    const bindings = env as unknown as Record<string, unknown>;
    expect(toolWorkflowPort(bindings, "TOOL_WORKFLOW").unavailable).toBeUndefined();
    expect(toolWorkflowPort(bindings, "NO_TOOL_WORKFLOW").unavailable).toMatchObject({
      code: "workflows_unavailable",
      message: expect.stringContaining('the binding "NO_TOOL_WORKFLOW" is missing'),
    });
  });
});
