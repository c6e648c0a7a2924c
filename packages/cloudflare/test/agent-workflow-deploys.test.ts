import { runInDurableObject } from "cloudflare:test";
import type { LedgerEvent } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { type AgentWorkflowSide, workflowSides } from "../src/workflows/workflow-sides.ts";
import { probe } from "./fixture/probe.ts";
import { type SessionHandle, session } from "./support/session.ts";

/**
 * A deploy that drops `createAgentWorkflow` while a run on the Workflow executor waits for an
 * approval, then a deploy that has it again, in real workerd with local Workflows. The
 * fixture Worker exports the class, so its isolate has the executor's side installed
 * (workflow-sides.ts); the deploy without it is that side taken out of this isolate while
 * the session object restarts, which is what the object of a Worker that never calls
 * createAgentWorkflow reads.
 */

const sides = workflowSides() as { agent?: AgentWorkflowSide };
const installed = sides.agent;

afterEach(() => {
  sides.agent = installed;
  probe.reset();
});

const ended = (e: LedgerEvent) =>
  e.kind === "run.completed" || e.kind === "run.failed" || e.kind === "run.aborted";

async function restartObject(s: SessionHandle, why: string): Promise<void> {
  await runInDurableObject(s.stub(), (_instance, state) => state.abort(`restart: ${why}`)).catch(
    () => undefined,
  );
}

describe("a deploy without createAgentWorkflow, between two with it", () => {
  it("refuses the approval of a waiting Workflow run and writes nothing; the next deploy resumes the parked instance with it", async () => {
    expect(installed).toBeDefined();
    const s = session("approver");
    const started = await s.post("runs", { input: { message: "pay" }, executor: "workflow" });
    expect(started.status).toBe(202);
    await s.waitFor((e) => e.kind === "run.waiting", 20_000);
    const asked = (await s.events()).filter((e) => e.kind === "approval.requested");
    const approvals = asked.map((e) => ({ callId: e.data.callId, approved: true }));
    expect(approvals.length).toBeGreaterThan(0);

    // The deploy without the export: the object comes back with no executor's side.
    sides.agent = undefined;
    await restartObject(s, "deploy without createAgentWorkflow");
    const before = await s.events();
    const refused = await s.post("resume", { approvals });
    expect(refused.status).toBe(500);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("workflows_unavailable");
    expect(body.error.message).toContain("createAgentWorkflow");
    expect(await s.events()).toEqual(before);
    expect(await (await s.get("status")).json()).toMatchObject({ status: "waiting" });

    // The deploy with it again: the same approvals resume the run, which completes.
    sides.agent = installed;
    await restartObject(s, "deploy with createAgentWorkflow");
    expect((await s.post("resume", { approvals })).status).toBe(202);
    const end = await s.waitFor(ended, 20_000);
    expect(end.kind).toBe("run.completed");
  });
});
