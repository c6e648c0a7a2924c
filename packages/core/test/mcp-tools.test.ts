import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  defineAgent,
  type EventKind,
  type LedgerEvent,
  latestRun,
  scriptedModel,
  usageSummary,
} from "../src/index.ts";
import { type McpServerOptions, mcpServer } from "../src/mcp/index.ts";
import { ManualClock } from "../src/testing/manual-clock.ts";
import { createTestSession, type TestSession } from "../src/testing/test-session.ts";
import { createAguiProjector, createUiStreamProjector } from "../src/wire/index.ts";
import { type LabServer, startLabServer } from "./mcp-lab-server.ts";

let lab: LabServer;
beforeEach(async () => {
  lab = await startLabServer();
});
afterEach(() => lab.stop());

type Call = { name: string; args: unknown };

/** Turn 0 makes `calls` (in parallel); turn 1 repeats what the tools answered. */
function labAgent(calls: Call[], server: Partial<McpServerOptions> = {}) {
  return defineAgent({
    name: "lab",
    system: "You use the lab.",
    mcp: [
      mcpServer({
        name: "lab",
        url: lab.url,
        effects: { add: "pure", slow: "idempotent" },
        ...server,
      }),
    ],
    model: scriptedModel({
      rules: [
        ({ turn, toolResults }) =>
          turn === 0
            ? { text: "Using the lab.", toolCalls: calls }
            : { text: `Results: ${JSON.stringify(toolResults.map((r) => r.output))}` },
      ],
    }),
  });
}

const kinds = (events: readonly LedgerEvent[]) =>
  events.filter((e) => e.kind !== "model.delta").map((e) => e.kind);
const ofKind = <K extends EventKind>(events: readonly LedgerEvent[], kind: K): LedgerEvent<K>[] =>
  events.filter((e) => e.kind === kind) as LedgerEvent<K>[];

const THREE: Call[] = [
  { name: "add", args: { a: 2, b: 3 } },
  { name: "slow", args: { label: "x" } },
  { name: "fail", args: {} },
];

describe("MCP servers as tool sources (a real MCP SDK server on loopback)", () => {
  it("admit: a refused MCP call is tool.failed tool_refused and never reaches the server; admitted ones do", async () => {
    const seen: string[] = [];
    const s = createTestSession(
      labAgent(
        [
          { name: "add", args: { a: 2, b: 3 } },
          { name: "add", args: { a: 200, b: 3 } },
        ],
        {
          admit: (name, args, ctx) => {
            seen.push(`${name}:${ctx.authority}`);
            return (args as { a: number }).a < 100
              ? { admitted: true }
              : { admitted: false, reason: "numbers over 100 are not for the lab" };
          },
        },
      ),
    );
    await s.runtime.start({ message: "go" });
    await s.drain();
    const events = s.runtime.ledger.read(0);
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(ofKind(events, "tool.failed").map((e) => e.data.error)).toEqual([
      {
        code: "tool_refused",
        message: "add was not admitted: numbers over 100 are not for the lab",
      },
    ]);
    expect(ofKind(events, "tool.completed")).toHaveLength(1);
    expect(lab.calls.map((c) => c.args)).toEqual([{ a: 2, b: 3 }]);
    expect(seen).toEqual(["add:external", "add:external"]);
  });

  it("a pure, a slow and a failing MCP tool run like local tools: ledger, keys, usage, AG-UI and UI stream", async () => {
    const s = createTestSession(labAgent(THREE));
    await s.runtime.start({ message: "go" });
    await s.drain();
    const events = s.runtime.ledger.read(0);
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(
      kinds(events).map((k) => (k.startsWith("tool.") && k !== "tool.started" ? "tool.*" : k)),
    ).toEqual([
      "run.started",
      "mcp.tools_listed",
      "step.started",
      "model.completed",
      "tool.started",
      "tool.started",
      "tool.started",
      "tool.*",
      "tool.*",
      "tool.*",
      "step.completed",
      "step.started",
      "model.completed",
      "step.completed",
      "run.completed",
    ]);
    const [listed] = ofKind(events, "mcp.tools_listed");
    expect(listed?.data.server).toBe("lab");
    expect(listed?.data.tools.map((t) => t.name)).toEqual(["add", "slow", "fail", "chart"]);
    expect(listed?.data.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(listed?.data.previousDigest).toBeUndefined();

    const started = ofKind(events, "tool.started");
    expect(started.map((e) => [e.data.name, e.data.effect])).toEqual([
      ["add", "pure"],
      ["slow", "idempotent"],
      ["fail", "irreversible"],
    ]);
    // The server got each call's idempotency key as request metadata.
    for (const e of started)
      expect(lab.calls.find((c) => c.tool === e.data.name)?.key).toBe(e.data.idempotencyKey);

    const completed = ofKind(events, "tool.completed");
    expect(Object.fromEntries(completed.map((e) => [e.data.name, e.data.result]))).toEqual({
      add: { type: "mcp.content", content: [{ type: "text", text: "5" }] },
      slow: { type: "mcp.content", content: [{ type: "text", text: "slow x done" }] },
    });
    const [failed] = ofKind(events, "tool.failed");
    expect(failed?.data.error.code).toBe("mcp_tool_error");
    expect(failed?.data.error.message).toContain("the warehouse is closed");

    // The model read the results as text (and the failure as an error).
    const answer = ofKind(events, "model.completed").at(-1)?.data.text ?? "";
    expect(answer).toContain('[{"type":"text","text":"5"}]');
    expect(answer).toContain("slow x done");
    expect(answer).toContain("the warehouse is closed");

    expect(usageSummary(s.sql).tools).toEqual([
      { name: "add", calls: 1, failures: 0 },
      { name: "fail", calls: 1, failures: 1 },
      { name: "slow", calls: 1, failures: 0 },
    ]);

    const agui = createAguiProjector({ threadId: "s1" });
    const aguiOut = events.flatMap((e) => agui.map(e));
    const starts = aguiOut.filter((e) => e.type === "TOOL_CALL_START");
    expect(starts.map((e) => (e as { toolCallName?: string }).toolCallName)).toEqual([
      "add",
      "slow",
      "fail",
    ]);
    expect(aguiOut.filter((e) => e.type === "TOOL_CALL_RESULT")).toHaveLength(3);

    const ui = createUiStreamProjector();
    const chunks = events.flatMap((e) => ui.map(e));
    const types = chunks.map((c) => c.type);
    expect(types.filter((t) => t === "tool-input-available")).toHaveLength(3);
    expect(types.filter((t) => t === "tool-output-available")).toHaveLength(2);
    expect(types.filter((t) => t === "tool-output-error")).toHaveLength(1);
  });

  it("an image result reaches the model as a file part with its media type", async () => {
    let seen: unknown;
    const agent = defineAgent({
      name: "lab",
      system: "charts",
      mcp: [mcpServer({ name: "lab", url: lab.url, tools: { chart: "draw_chart" } })],
      model: scriptedModel({
        rules: [
          ({ turn, prompt }) => {
            if (turn === 0) return { toolCalls: [{ name: "draw_chart", args: {} }] };
            seen = prompt.at(-1);
            return { text: "drawn" };
          },
        ],
      }),
    });
    const s = createTestSession(agent);
    await s.runtime.start({ message: "chart" });
    await s.drain();
    const [listed] = ofKind(s.runtime.ledger.read(0), "mcp.tools_listed");
    expect(listed?.data.tools.map((t) => [t.name, t.remoteName])).toEqual([
      ["draw_chart", "chart"],
    ]);
    expect(seen).toMatchObject({
      role: "tool",
      content: [
        {
          toolName: "draw_chart",
          output: {
            type: "content",
            value: [
              { type: "text", text: "here is the chart" },
              {
                type: "file",
                data: { type: "data", data: "iVBORw0KGgo=" },
                mediaType: "image/png",
              },
            ],
          },
        },
      ],
    });
  });

  it("the tool list is recorded once per run; a changed server shows in the next run's digest", async () => {
    const s = createTestSession(labAgent([{ name: "add", args: { a: 1, b: 1 } }]));
    await s.runtime.start({ message: "one" });
    await s.drain();
    lab.addTool("extra");
    await s.runtime.start({ message: "two" });
    await s.drain();
    const listed = ofKind(s.runtime.ledger.read(0), "mcp.tools_listed");
    expect(listed).toHaveLength(2);
    expect(listed[1]?.data.tools.map((t) => t.name)).toContain("extra");
    expect(listed[1]?.data.digest).not.toBe(listed[0]?.data.digest);
    expect(listed[1]?.data.previousDigest).toBe(listed[0]?.data.digest);
  });

  it("needsApproval per MCP tool pauses before the call; an approval runs it", async () => {
    const s = createTestSession(
      labAgent([{ name: "add", args: { a: 4, b: 4 } }], { needsApproval: ["add"] }),
    );
    await s.runtime.start({ message: "go" });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("waiting");
    expect(lab.calls).toHaveLength(0);
    const [asked] = ofKind(s.runtime.ledger.read(0), "approval.requested");
    await s.runtime.resume({ approvals: [{ callId: asked?.data.callId ?? "", approved: true }] });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    expect(lab.calls.map((c) => c.tool)).toEqual(["add"]);
  });

  it("a call with no answer within timeoutMs fails as mcp_timeout, and the run goes on", async () => {
    const held = lab.holdSlow();
    const s = createTestSession(
      labAgent([{ name: "slow", args: { label: "t" } }], { timeoutMs: 100 }),
    );
    await s.runtime.start({ message: "go" });
    await s.drain();
    held.release();
    const [failed] = ofKind(s.runtime.ledger.read(0), "tool.failed");
    expect(failed?.data.error.code).toBe("mcp_timeout");
    expect(latestRun(s.sql)?.status).toBe("completed");
  });

  it("the server going down mid-call ends the call in tool.failed and the run continues", async () => {
    const held = lab.holdSlow();
    const s = createTestSession(labAgent([{ name: "slow", args: { label: "d" } }]));
    await s.runtime.start({ message: "go" });
    const draining = s.drain();
    await until(() => lab.calls.length === 1);
    await lab.stop();
    held.release();
    await draining;
    const events = s.runtime.ledger.read(0);
    const [failed] = ofKind(events, "tool.failed");
    expect(failed?.data.error.code).toBe("mcp_unreachable");
    expect(latestRun(s.sql)?.status).toBe("completed");
  });

  it("a server that is down when the run starts fails the run after the pump's retries, with a clear reason", async () => {
    await lab.stop();
    const s = createTestSession(labAgent([{ name: "add", args: { a: 1, b: 2 } }]));
    await s.runtime.start({ message: "go" });
    for (let i = 0; i < 8; i++) {
      await s.drain();
      s.clock.advance(120_000);
    }
    const run = latestRun(s.sql);
    expect(run?.status).toBe("failed");
    const [failed] = ofKind(s.runtime.ledger.read(0), "run.failed");
    expect(failed?.data.error.code).toBe("mcp_list_failed");
    expect(failed?.data.error.message).toContain('MCP server "lab"');
  });
});

describe("MCP calls across a crash", () => {
  /** The object freezes at `point` the first time (a crash: its clock and work stop); a new one takes over. */
  async function crashAt(agent: ReturnType<typeof labAgent>, point: string): Promise<TestSession> {
    let hits = 0;
    const s = createTestSession(agent, {
      faults: (p) => (p === point && hits++ === 0 ? new Promise<void>(() => {}) : undefined),
    });
    await s.runtime.start({ message: "go" });
    void s.runtime.alarm();
    await until(() => hits === 1);
    const fresh = s.restart({ clock: new ManualClock(s.clock.now() + 60_000), faults: undefined });
    await fresh.runtime.alarm();
    await fresh.drain();
    return fresh;
  }

  it("a call with the default effect (irreversible) that started before the crash pauses the run with tool.outcome_unknown", async () => {
    const s = await crashAt(labAgent([{ name: "fail", args: {} }]), "after-tool-started");
    const events = s.runtime.ledger.read(0);
    expect(kinds(events).slice(-2)).toEqual(["tool.outcome_unknown", "run.waiting"]);
    expect(ofKind(events, "run.waiting").at(-1)?.data.reason).toBe("outcome_unknown");
    expect(lab.calls).toHaveLength(0);
  });

  it("an idempotent call is re-sent with the same key, and the redriven step sees the tools the lost one saw", async () => {
    const agent = labAgent([{ name: "slow", args: { label: "i" } }]);
    const s = await (async () => {
      let hits = 0;
      const first = createTestSession(agent, {
        faults: (p) =>
          p === "before-tool-commit" && hits++ === 0 ? new Promise<void>(() => {}) : undefined,
      });
      await first.runtime.start({ message: "go" });
      void first.runtime.alarm();
      await until(() => hits === 1);
      lab.addTool("changed"); // the server changes while the object is down
      const fresh = first.restart({
        clock: new ManualClock(first.clock.now() + 60_000),
        faults: undefined,
      });
      await fresh.runtime.alarm();
      await fresh.drain();
      return fresh;
    })();
    const events = s.runtime.ledger.read(0);
    expect(latestRun(s.sql)?.status).toBe("completed");
    const slow = lab.calls.filter((c) => c.tool === "slow");
    expect(slow).toHaveLength(2);
    const [started] = ofKind(events, "tool.started");
    expect(slow.map((c) => c.key)).toEqual([
      started?.data.idempotencyKey,
      started?.data.idempotencyKey,
    ]);
    const listed = ofKind(events, "mcp.tools_listed");
    expect(listed).toHaveLength(1);
    expect(listed[0]?.data.tools.map((t) => t.name)).not.toContain("changed");
    expect(ofKind(events, "tool.completed")).toHaveLength(1);
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error("condition not reached");
}
