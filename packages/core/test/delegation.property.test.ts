import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  type AgentDefinition,
  childSessionId,
  DurableAgentsError,
  defineAgent,
  defineSubagent,
  defineTool,
  type LedgerEvent,
  latestRun,
  listCheckpoints,
  type SubagentMessage,
  scriptedModel,
  TerminalError,
} from "../src/index.ts";
import type { ErrorInfo } from "../src/ledger/events.ts";
import {
  createTestSession,
  ManualClock,
  NodeSqlPort,
  type TestSession,
} from "../src/testing/index.ts";
import { KeptRecordsMirror } from "./run-records-mirror.ts";

/**
 * Property (issue 18, docs/guarantees.md G12): whatever commands a parent session and
 * its child sessions receive, in any order (start, approve, interrupt, resume, abort,
 * close, retry, fork, on both sides),
 * 1. no call waits on a session that has ended: after every command, each call still
 *    delegated belongs to an open run and is being worked on by a live child run of
 *    exactly its identity;
 * 2. no call id is ever answered with another call's result: every recorded answer is
 *    the output of the child run started for that call's identity;
 * 3. once every child session has ended (each one aborted, or interrupted then closed),
 *    every delegated call of every parent has ended (completed or failed).
 * 4. each session's kept run records (run-records.ts, as the run driver keeps them) equal
 *    their rows after every command and at every fault point of every step: replies, cancels
 *    and forks move them as any append does.
 * 5. no child works for a call that has ended: once a call of the session that made it is no
 *    longer delegated (answered, or failed by its run's abort, interrupt or failure), no child
 *    run of its identity is running or waiting (the parent cancelled it).
 */

let failParentNext = false;
/** How many kept run records were compared with their rows, over all the property's runs. */
let comparedRecords = 0;
/** Calls delegated again by their own run under the same call id at a later step (a retry). */
let repeatedCallIds = 0;

/** The child: asks a human to confirm (needs approval), then answers with how much history it saw. */
const helper = defineAgent({
  name: "helper",
  system: "",
  tools: [
    defineTool({
      name: "confirm",
      description: "A human confirms.",
      input: z.object({}),
      effect: "irreversible",
      needsApproval: true,
      execute: () => "confirmed",
    }),
  ],
  model: scriptedModel({
    rules: [
      ({ turn, userText, prompt }) =>
        turn === 0
          ? { toolCalls: [{ name: "confirm", args: {} }] }
          : { text: `${userText}#${prompt.length}` },
    ],
  }),
});

/** The parent: delegates one call, then answers with the result (or fails once when told to). */
const lead = defineAgent({
  name: "lead",
  system: "",
  tools: [
    defineSubagent({
      name: "ask",
      description: "Asks a helper.",
      agent: "helper",
      input: z.object({ q: z.string() }),
      message: ({ q }) => q,
    }),
  ],
  model: scriptedModel({
    rules: [
      ({ turn, userText, toolResults }) => {
        if (turn === 0) return { toolCalls: [{ name: "ask", args: { q: userText } }] };
        if (failParentNext) {
          failParentNext = false;
          throw new TerminalError("injected_failure", "the parent's step fails");
        }
        return { text: `done: ${JSON.stringify(toolResults.map((r) => r.output))}` };
      },
    ],
  }),
});

const AGENTS = new Map<string, AgentDefinition>([
  ["lead", lead],
  ["helper", helper],
]);

/** Sessions of both agents on one manual clock, wired like Durable Objects over RPC. */
function world() {
  const clock = new ManualClock();
  const sessions = new Map<string, TestSession>();
  /** Per session, the run driver's kept records followed and compared with the rows. */
  const mirrors = new Map<string, KeptRecordsMirror>();
  const session = (agent: string, id: string): TestSession => {
    const key = `${agent}/${id}`;
    let s = sessions.get(key);
    if (!s) {
      s = createTestSession(
        AGENTS.get(agent) as AgentDefinition,
        {
          sessionId: id,
          subagents: { send: (m) => deliver(m) },
          newId: newRunId,
          // Inside every step, at each of its fault points: the kept records equal the rows.
          faults: () => {
            for (const mirror of mirrors.values()) mirror.checkInside();
          },
        },
        { sql: new NodeSqlPort(), clock },
      );
      sessions.set(key, s);
      mirrors.set(key, new KeptRecordsMirror(s));
    }
    return s;
  };
  let runs = 0;
  const newRunId = () => `run_${++runs}`;
  // As the Cloudflare port does: a 4xx from the receiver is a refusal, anything else transient.
  const deliver = async (message: SubagentMessage): Promise<ErrorInfo | undefined> => {
    try {
      if (message.type === "start")
        await session(message.agent, message.session).runtime.startChild(message);
      else if (message.type === "cancel")
        await session(message.agent, message.session).runtime.cancelChild(message);
      else
        await session(message.parent.agent, message.parent.session).runtime.receiveReply(message);
      return undefined;
    } catch (error) {
      if (error instanceof DurableAgentsError && error.status < 500)
        return { code: error.code, message: error.message };
      throw error;
    }
  };
  const settle = async () => {
    for (let round = 0; round < 200; round++) {
      let fired = 0;
      for (const s of [...sessions.values()]) fired += await s.drain();
      if (fired > 0) continue;
      const next = Math.min(
        ...[...sessions.values()].map((s) => s.wakeAt() ?? Number.POSITIVE_INFINITY),
      );
      if (!Number.isFinite(next)) return;
      clock.advance(Math.max(0, next - clock.now()));
    }
    throw new Error("the sessions never came to rest");
  };
  const of = (agent: string) =>
    [...sessions.entries()].filter(([k]) => k.startsWith(`${agent}/`)).map(([, s]) => s);
  /** Each fork's source session and the last seq it copied from it. */
  const forkedFrom = new Map<string, { source: string; upTo: number }>();
  return { session, settle, sessions, of, forkedFrom, mirrors };
}

type World = ReturnType<typeof world>;

type Op =
  | "start"
  | "approve"
  | "interrupt"
  | "resume"
  | "abort"
  | "close"
  | "retry_start"
  | "retry_checkpoint"
  | "fork"
  | "fail_next";

const OPS: readonly Op[] = [
  "start",
  "approve",
  "interrupt",
  "resume",
  "abort",
  "close",
  "retry_start",
  "retry_checkpoint",
  "fork",
  "fail_next",
];

interface Command {
  readonly side: "parent" | "child";
  readonly op: Op;
  readonly pick: number;
}

let forks = 0;

/** Applies one command; a refusal (409, 404, 400) is a possible outcome and changes nothing. */
async function apply(w: World, command: Command): Promise<void> {
  const pool = w.of(command.side === "parent" ? "lead" : "helper");
  const s = pool[command.pick % Math.max(1, pool.length)];
  if (!s) return;
  const r = s.runtime;
  const id = r.status().session;
  try {
    switch (command.op) {
      case "start":
        await r.start({ message: `q${command.pick}` });
        return;
      case "approve": {
        const run = latestRun(s.sql);
        const pending = run
          ? r.ledger
              .read(0)
              .filter((e) => e.kind === "approval.requested" && e.runId === run.runId)
              .map((e) => (e.data as { callId: string }).callId)
          : [];
        await r.resume({ approvals: pending.map((callId) => ({ callId, approved: true })) });
        return;
      }
      case "interrupt":
        await r.interrupt("test interrupt");
        return;
      case "resume":
        await r.resume({ mode: "continue" });
        return;
      case "abort":
        await r.abort("test abort");
        return;
      case "close":
        await r.close("test close");
        return;
      case "retry_start":
        await r.retry({ mode: "from_start" });
        return;
      case "retry_checkpoint":
        await r.retry({ mode: "from_checkpoint" });
        return;
      case "fail_next":
        failParentNext = true;
        return;
      case "fork": {
        const checkpoints = listCheckpoints(s.sql, 0, 1000);
        const at = checkpoints[command.pick % Math.max(1, checkpoints.length)];
        if (!at) return;
        const events = r.forkPrefix(String(at.seq));
        const agent = command.side === "parent" ? "lead" : "helper";
        const forkId = `${id}-f${++forks}`;
        w.session(agent, forkId).runtime.importFork(events, "test fork");
        w.forkedFrom.set(forkId, { source: id, upTo: events.length });
        return;
      }
    }
  } catch (error) {
    if (error instanceof DurableAgentsError && error.status < 500) return;
    throw error;
  }
}

interface DelegatedCall {
  readonly parent: TestSession;
  /** The session that made the call: the parent, or for history a fork copied, its source. */
  readonly owner: string;
  readonly runId: string;
  readonly step: number;
  readonly callId: string;
}

function delegatedCalls(w: World): DelegatedCall[] {
  return w.of("lead").flatMap((parent) =>
    parent.runtime.ledger
      .read(0, 100_000)
      .filter((e) => e.kind === "subagent.started")
      .map((e) => {
        const { step, callId } = e.data as { step: number; callId: string };
        let owner = parent.runtime.status().session;
        for (let from = w.forkedFrom.get(owner); from && e.seq <= from.upTo; ) {
          owner = from.source;
          from = w.forkedFrom.get(owner);
        }
        return { parent, owner, runId: e.runId as string, step, callId };
      }),
  );
}

function callStatus(call: DelegatedCall): string | undefined {
  return call.parent.sql.exec<{ status: string }>(
    "SELECT status FROM tool_calls WHERE run_id = ? AND step = ? AND call_id = ?",
    call.runId,
    call.step,
    call.callId,
  )[0]?.status;
}

/** The child runs started for exactly this call's identity. */
function childRuns(w: World, call: DelegatedCall) {
  const parentId = call.owner;
  const child = w.sessions.get(`helper/${childSessionId(parentId, call.callId)}`);
  if (!child) return { child, runs: [] };
  const runs = child.sql
    .exec<{ run_id: string; status: string; output: string | null; parent: string }>(
      "SELECT run_id, status, output, parent FROM runs WHERE parent IS NOT NULL",
    )
    .filter((row) => {
      const ref = JSON.parse(row.parent) as Record<string, unknown>;
      return (
        ref.agent === "lead" &&
        ref.session === parentId &&
        ref.runId === call.runId &&
        ref.step === call.step &&
        ref.callId === call.callId
      );
    });
  return { child, runs };
}

const OPEN_RUN = new Set(["running", "waiting", "interrupted"]);

function checkNoWaitOnEnded(w: World): void {
  for (const call of delegatedCalls(w)) {
    if (callStatus(call) !== "delegated") continue;
    const run = call.parent.sql.exec<{ status: string }>(
      "SELECT status FROM runs WHERE run_id = ?",
      call.runId,
    )[0];
    expect(OPEN_RUN.has(run?.status ?? "")).toBe(true);
    const { child, runs } = childRuns(w, call);
    expect(child?.runtime.ledger.closed).toBe(false);
    expect(runs).toHaveLength(1);
    expect(OPEN_RUN.has(runs[0]?.status ?? "")).toBe(true);
  }
}

function checkNoWorkForEndedCalls(w: World): void {
  for (const call of delegatedCalls(w)) {
    // History a fork copied is its source's call: the source's status is what counts.
    if (call.owner !== call.parent.runtime.status().session) continue;
    if (callStatus(call) === "delegated") continue;
    const { runs } = childRuns(w, call);
    expect(runs.filter((r) => r.status === "running" || r.status === "waiting")).toEqual([]);
  }
}

function checkAnswersMatchCalls(w: World): void {
  for (const call of delegatedCalls(w)) {
    const answered = call.parent.runtime.ledger
      .read(0, 100_000)
      .filter(
        (e): e is LedgerEvent<"tool.completed"> =>
          e.kind === "tool.completed" &&
          e.runId === call.runId &&
          e.data.step === call.step &&
          e.data.callId === call.callId,
      );
    expect(answered.length).toBeLessThanOrEqual(1);
    if (answered.length === 0) continue;
    const { runs } = childRuns(w, call);
    const completed = runs.filter((r) => r.status === "completed");
    expect(completed).toHaveLength(1);
    expect(answered[0]?.data.result).toEqual(JSON.parse(completed[0]?.output ?? "null"));
  }
}

/** Ends every child session, each in one of the ways a session can end. */
async function endChildren(w: World, ways: readonly number[]): Promise<void> {
  let i = 0;
  for (const child of w.of("helper")) {
    const way = ways[i++ % Math.max(1, ways.length)] ?? 0;
    if (child.runtime.ledger.closed) continue;
    const run = latestRun(child.sql);
    if (run && OPEN_RUN.has(run.status)) {
      if (way % 2 === 0) await child.runtime.abort("the test ends it");
      else if (run.status !== "interrupted") await child.runtime.interrupt("the test ends it");
    }
    await w.settle();
    const after = latestRun(child.sql);
    if (!after || !["running", "waiting"].includes(after.status))
      await child.runtime.close("the test ends it");
    await w.settle();
  }
}

const command = fc.record({
  side: fc.constantFrom<"parent" | "child">("parent", "child"),
  op: fc.constantFrom(...OPS),
  pick: fc.nat({ max: 7 }),
});

/**
 * Sequences every run tries first: a parent run that fails after its call was answered (the
 * child aborted, or approved and done) and is retried from the start. Its model repeats
 * `call_0_0` in the same run, so only the step tells the new call from the answered one (a
 * child that deduped starts without it would never answer); random sequences seldom get here.
 */
const RETRY_OF_A_FAILED_PARENT: [Command[], number[]][] = [
  [
    [
      { side: "parent", op: "fail_next", pick: 0 },
      { side: "child", op: "abort", pick: 0 },
      { side: "parent", op: "retry_start", pick: 0 },
      { side: "child", op: "approve", pick: 0 },
    ],
    [0],
  ],
  [
    [
      { side: "parent", op: "fail_next", pick: 0 },
      { side: "child", op: "approve", pick: 0 },
      { side: "parent", op: "retry_start", pick: 0 },
      { side: "child", op: "approve", pick: 0 },
    ],
    [1],
  ],
];

describe("delegation property: parent and child commands in any order", () => {
  it("no call waits on an ended session, no child works for an ended call, none gets another call's answer, and all end when the children end", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 1, maxLength: 14 }),
        fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 4 }),
        async (commands, ways) => {
          failParentNext = false;
          const w = world();
          const parent = w.session("lead", "p");
          await parent.runtime.start({ message: "first" });
          await w.settle();
          for (const c of commands) {
            await apply(w, c);
            await w.settle();
            checkNoWaitOnEnded(w);
            checkNoWorkForEndedCalls(w);
            checkAnswersMatchCalls(w);
            for (const mirror of w.mirrors.values()) mirror.check();
          }
          await endChildren(w, ways);
          checkAnswersMatchCalls(w);
          for (const mirror of w.mirrors.values()) mirror.check();
          for (const mirror of w.mirrors.values()) comparedRecords += mirror.compared;
          const identities = delegatedCalls(w).map(
            (c) => `${c.parent.runtime.status().session}/${c.runId}/${c.callId}`,
          );
          repeatedCallIds += identities.length - new Set(identities).size;
          for (const call of delegatedCalls(w)) {
            expect(["completed", "failed"]).toContain(callStatus(call));
          }
        },
      ),
      { numRuns: 100, examples: RETRY_OF_A_FAILED_PARENT },
    );
    // Runs were followed while they ran (the comparisons were not all of stopped runs).
    expect(comparedRecords).toBeGreaterThan(100);
    // Some run delegated a call id again at a later step (the examples above, at least).
    expect(repeatedCallIds).toBeGreaterThan(0);
  }, 120_000);
});
