import {
  APICallError,
  type LanguageModelV4,
  type LanguageModelV4StreamPart,
} from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  DURABLE_AGENTS,
  defineAgent,
  defineSubagent,
  defineTool,
  GEN_AI,
  getRunTrace,
  runTracing,
  type SpanRecord,
  type SubagentMessage,
  scriptedModel,
  segmentSpanId,
  stepSpanId,
  type TraceSink,
} from "../src/index.ts";
import {
  createTestSession,
  ManualClock,
  NodeSqlPort,
  type TestSession,
} from "../src/testing/index.ts";
import { compactions, runs, SYSTEM, settle, wordsAgent } from "./compaction-fixture.ts";
import { mathAgent } from "./fixtures.ts";

/** A sink that keeps what it is given, and counts flushes. */
function memorySink(): TraceSink & { spans: SpanRecord[]; flushes: number } {
  const sink = {
    spans: [] as SpanRecord[],
    flushes: 0,
    record: (span: SpanRecord) => void sink.spans.push(span),
    flush: async () => void sink.flushes++,
  };
  return sink;
}

/**
 * A trace a backend can draw: span ids are unique, every parent is exported (or the span is
 * the root), and a child lies within its parent's time.
 */
function expectWellFormed(spans: readonly SpanRecord[]): void {
  const ids = spans.flatMap((x) => (x.spanId === undefined ? [] : [x.spanId]));
  expect(new Set(ids).size).toBe(ids.length);
  const byId = new Map(spans.map((x) => [x.spanId, x]));
  for (const x of spans) {
    if (x.parentSpanId === undefined) continue;
    const parent = byId.get(x.parentSpanId);
    expect(parent, `the parent of ${x.name}`).toBeDefined();
    expect(x.startTime, `${x.name} starts within ${parent?.name}`).toBeGreaterThanOrEqual(
      parent?.startTime ?? Number.NaN,
    );
    expect(x.endTime, `${x.name} ends within ${parent?.name}`).toBeLessThanOrEqual(
      parent?.endTime ?? Number.NaN,
    );
  }
}

describe("tracing a run (GenAI spans from the run driver and the ledger)", () => {
  it("a two-step run with a tool call, its answer crashed mid-stream and redriven by a new object: one trace", async () => {
    const first = memorySink();
    let crashes = 0;
    const s = createTestSession(mathAgent, {
      tracing: { runs: runTracing(first) },
      faults: (point, info) => {
        if (point === "mid-stream" && info.step === 2 && crashes++ === 0) throw new Error("crash");
      },
    });
    const { runId } = await s.runtime.start({ message: "2+3?" });
    await s.drain(3); // step 1 (model, tools, finish) and the answer's first attempt, which dies
    const trace = getRunTrace(s.sql, runId);
    expect(trace).toMatchObject({ runId, agent: "math", attempt: 1, step: 2 });
    if (!trace) throw new Error("no trace context");
    expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(trace.spanId).toMatch(/^[0-9a-f]{16}$/);
    const started = s.runtime.ledger.read(0).find((e) => e.kind === "run.started");
    expect(started?.data).toMatchObject({
      trace: { traceId: trace.traceId, spanId: trace.spanId },
    });

    // A new object (the old one evicted) redrives the answer as attempt 2.
    const second = memorySink();
    const fresh = s.restart({
      clock: new ManualClock(s.clock.now() + 60_000),
      tracing: { runs: runTracing(second) },
    });
    await fresh.runtime.alarm();
    await fresh.drain();
    expect(fresh.runtime.ledger.read(0).at(-1)?.kind).toBe("run.completed");

    const spans = [...first.spans, ...second.spans];
    expect(new Set(spans.map((x) => x.traceId))).toEqual(new Set([trace.traceId]));
    const byName = (name: string) => spans.filter((x) => x.name === name);
    const [run] = byName("invoke_agent math");
    expect(run).toMatchObject({
      spanId: trace.spanId,
      attributes: {
        [GEN_AI.operation]: "invoke_agent",
        [DURABLE_AGENTS.runStatus]: "completed",
        [DURABLE_AGENTS.sessionId]: "s1",
        [DURABLE_AGENTS.runId]: runId,
      },
    });
    expect(run?.parentSpanId).toBeUndefined();
    const final = getRunTrace(fresh.sql, runId);
    if (!final) throw new Error("no trace context");
    const step1 = byName("step 1");
    const step2 = byName("step 2");
    expect(step1).toHaveLength(1);
    // The crashed attempt ended with ERROR where it failed; the redrive is a span of its own.
    expect(step2).toHaveLength(2);
    expect(step2[0]).toMatchObject({
      spanId: stepSpanId(final, 2, 1),
      parentSpanId: trace.spanId,
      attributes: { [DURABLE_AGENTS.attempt]: 1 },
      error: { message: "crash" },
    });
    expect(step1[0]).toMatchObject({
      spanId: stepSpanId(final, 1, 1),
      parentSpanId: trace.spanId,
      links: [],
    });
    expect(step2[1]).toMatchObject({
      spanId: stepSpanId(final, 2, 2),
      parentSpanId: trace.spanId,
      attributes: { [DURABLE_AGENTS.attempt]: 2 },
      links: [
        {
          traceId: trace.traceId,
          spanId: trace.spanId,
          attributes: { [DURABLE_AGENTS.link]: "redrive" },
        },
      ],
    });
    const chats = spans.filter((x) => x.attributes[GEN_AI.operation] === "chat");
    // Step 1, step 2's crashed attempt (an error span) and its redrive.
    expect(chats.map((x) => [x.parentSpanId, x.error?.message])).toEqual([
      [stepSpanId(final, 1, 1), undefined],
      [stepSpanId(final, 2, 1), "crash"],
      [stepSpanId(final, 2, 2), undefined],
    ]);
    expect(chats[0]?.attributes).toMatchObject({
      [GEN_AI.requestModel]: expect.any(String),
      [GEN_AI.inputTokens]: expect.any(Number),
      [GEN_AI.outputTokens]: expect.any(Number),
      [GEN_AI.finishReasons]: ["tool_calls"],
    });
    const completed = fresh.runtime.ledger
      .read(0)
      .filter((e) => e.kind === "model.completed")
      .map((e) => (e.kind === "model.completed" ? e.data.usage : undefined));
    expect([chats[0], chats[2]].map((x) => x?.attributes[GEN_AI.inputTokens])).toEqual(
      completed.map((u) => u?.inputTokens),
    );
    expect([chats[0], chats[2]].map((x) => x?.attributes[GEN_AI.outputTokens])).toEqual(
      completed.map((u) => u?.outputTokens),
    );
    const [tool] = byName("execute_tool calculator");
    expect(tool).toMatchObject({
      parentSpanId: stepSpanId(final, 1, 1),
      attributes: {
        [GEN_AI.toolName]: "calculator",
        [GEN_AI.toolCallId]: "call_0_0",
        [DURABLE_AGENTS.toolEffect]: "pure",
      },
    });
    for (const x of spans) expect(x.endTime).toBeGreaterThanOrEqual(x.startTime);
    expectWellFormed(spans);
    expect(second.flushes).toBeGreaterThan(0);
  });

  it("a run that waits for an approval: one invoke_agent span per stretch of work, the resumed one linked to the first", async () => {
    const pay = defineTool({
      name: "pay",
      description: "Pays. Needs a human.",
      input: z.object({ amount: z.number() }),
      effect: "irreversible",
      needsApproval: true,
      execute: ({ amount }) => ({ paid: amount }),
    });
    const payer = defineAgent({
      name: "payer",
      system: "",
      tools: [pay],
      model: scriptedModel({
        rules: [
          ({ turn }) =>
            turn === 0 ? { toolCalls: [{ name: "pay", args: { amount: 5 } }] } : { text: "Paid." },
        ],
      }),
    });
    const sink = memorySink();
    const s = createTestSession(payer, { tracing: { runs: runTracing(sink) } });
    const { runId } = await s.runtime.start({ message: "pay 5" });
    await s.drain();
    s.clock.advance(3 * 3600_000); // the human takes three hours
    const waiting = sink.spans.filter((x) => x.name === "invoke_agent payer");
    expect(waiting.map((x) => x.attributes[DURABLE_AGENTS.runStatus])).toEqual(["waiting"]);
    expect(waiting[0]?.attributes[DURABLE_AGENTS.waitingReason]).toBe("approval");
    await s.runtime.resume({ approvals: [{ callId: "call_0_0", approved: true }] });
    await s.drain();
    const trace = getRunTrace(s.sql, runId);
    if (!trace) throw new Error("no trace context");
    const runs = sink.spans.filter((x) => x.name === "invoke_agent payer");
    expect(runs.map((x) => x.attributes[DURABLE_AGENTS.runStatus])).toEqual([
      "waiting",
      "completed",
    ]);
    expect(runs.map((x) => x.spanId)).toEqual([trace.spanId, segmentSpanId(trace)]);
    expect(segmentSpanId(trace)).not.toBe(trace.spanId);
    expect(runs[1]?.links).toEqual([
      {
        traceId: trace.traceId,
        spanId: trace.spanId,
        attributes: { [DURABLE_AGENTS.link]: "resume" },
      },
    ]);
    // Step 1 waited for the approval: its span in the first stretch ends at the wait (its
    // model call under it); its continuation is a span of the second stretch, linked to the
    // first, and the approved tool runs under that one. No span covers the wait.
    const [before, after] = sink.spans.filter((x) => x.name === "step 1");
    const [wait, resumed] = runs;
    expect(before).toMatchObject({
      spanId: stepSpanId(trace, 1, 1),
      parentSpanId: trace.spanId,
      startTime: expect.any(Number),
      endTime: wait?.endTime,
    });
    expect(after).toMatchObject({
      parentSpanId: segmentSpanId(trace),
      startTime: resumed?.startTime,
      links: [
        {
          traceId: trace.traceId,
          spanId: stepSpanId(trace, 1, 1),
          attributes: { [DURABLE_AGENTS.link]: "resume" },
        },
      ],
    });
    expect(after?.spanId).not.toBe(before?.spanId);
    const [chat1] = sink.spans.filter((x) => x.attributes[GEN_AI.operation] === "chat");
    expect(chat1?.parentSpanId).toBe(before?.spanId);
    const tools = sink.spans.filter((x) => x.name === "execute_tool pay");
    expect(tools.map((x) => x.parentSpanId)).toEqual([after?.spanId]);
    for (const x of sink.spans)
      expect(x.endTime - x.startTime, `${x.name} covers no wait`).toBeLessThan(3600_000);
    expectWellFormed(sink.spans);

    // An abort of a waiting run adds no second span for the stretch the wait ended.
    const other = memorySink();
    const t = createTestSession(payer, { tracing: { runs: runTracing(other) } });
    await t.runtime.start({ message: "pay 5" });
    await t.drain();
    await t.runtime.abort("changed my mind");
    expect(other.spans.filter((x) => x.name === "invoke_agent payer")).toHaveLength(1);
  });

  it("a model call that fails every attempt: each attempt's step span ends with ERROR, so every chat span has its parent", async () => {
    const base = scriptedModel({ turns: [{ text: "never" }] });
    const model: LanguageModelV4 = {
      ...base,
      doStream: async () => {
        throw new APICallError({
          message: "upstream exploded",
          url: "https://model.test",
          requestBodyValues: {},
          statusCode: 500,
        });
      },
    };
    const sink = memorySink();
    const s = createTestSession(defineAgent({ name: "flaky", system: "", model }), {
      tracing: { runs: runTracing(sink) },
      pump: { backoffBaseMs: 10 },
    });
    const { runId } = await s.runtime.start({ message: "hi" });
    for (let i = 0; i < 50 && s.runtime.ledger.read(0).at(-1)?.kind !== "run.failed"; i++) {
      await s.drain();
      s.clock.advance(60_000);
    }
    expect(s.runtime.ledger.read(0).at(-1)?.kind).toBe("run.failed");
    const trace = getRunTrace(s.sql, runId);
    if (!trace) throw new Error("no trace context");
    const chats = sink.spans.filter((x) => x.attributes[GEN_AI.operation] === "chat");
    const steps = sink.spans.filter((x) => x.name === "step 1");
    expect(chats).toHaveLength(5);
    expect(
      steps.map((x) => [x.spanId, x.attributes[DURABLE_AGENTS.attempt], x.error?.code]),
    ).toEqual(
      [1, 2, 3, 4, 5].map((attempt) => [
        stepSpanId(trace, 1, attempt),
        attempt,
        expect.any(String),
      ]),
    );
    expect(chats.map((x) => x.parentSpanId)).toEqual(steps.map((x) => x.spanId));
    const [run] = sink.spans.filter((x) => x.name === "invoke_agent flaky");
    expect(run?.error).toBeDefined();
    expectWellFormed(sink.spans);
    expect(sink.flushes).toBeGreaterThanOrEqual(5);
  });

  it("a chat span has the finish reason as the conventions spell it, and the response's model and id when the provider sends them", async () => {
    const base = scriptedModel({ turns: [{ text: "Hi." }] });
    const model: LanguageModelV4 = {
      ...base,
      doStream: async (options) => {
        const { stream, ...rest } = await base.doStream(options);
        const metadata: LanguageModelV4StreamPart = {
          type: "response-metadata",
          id: "resp_42",
          modelId: "scripted-1-0613",
        };
        return {
          ...rest,
          stream: stream.pipeThrough(
            new TransformStream({
              start: (controller) => controller.enqueue(metadata),
              transform: (part, controller) => controller.enqueue(part),
            }),
          ),
        };
      },
    };
    const sink = memorySink();
    const s = createTestSession(defineAgent({ name: "greeter", system: "", model }), {
      tracing: { runs: runTracing(sink) },
    });
    await s.runtime.start({ message: "hi" });
    await s.drain();
    const [chat] = sink.spans.filter((x) => x.attributes[GEN_AI.operation] === "chat");
    expect(chat?.attributes).toMatchObject({
      [GEN_AI.requestModel]: "scripted-1",
      [GEN_AI.responseModel]: "scripted-1-0613",
      [GEN_AI.responseId]: "resp_42",
      [GEN_AI.finishReasons]: ["stop"],
    });
    // The ledger's model.completed is as before: the response's metadata is the span's only.
    const completed = s.runtime.ledger.read(0).find((e) => e.kind === "model.completed");
    expect(Object.keys(completed?.data ?? {}).sort()).toEqual(
      ["finishReason", "model", "step", "text", "toolCalls", "usage"].sort(),
    );
  });

  it("a compaction's summary call has a chat span of its own, under its step's, marked as the compaction's", async () => {
    const model = scriptedModel({
      modelId: "words-model",
      rules: [
        ({ prompt }) =>
          prompt[0]?.role === "system" && prompt[0].content !== SYSTEM
            ? { text: "they looked up alpha" }
            : undefined,
        ({ turn, userText }) =>
          turn === 0
            ? { toolCalls: [{ name: "lookup", args: { word: userText } }] }
            : { text: `looked up ${userText}` },
      ],
    });
    const sink = memorySink();
    const s = createTestSession(
      wordsAgent([], { keepMessages: 3, compactAfterMessages: 6 }, { model }),
      { tracing: { runs: runTracing(sink) } },
    );
    await runs(s, ["alpha", "beta"]);
    const [made] = compactions(s);
    expect(made?.data.usage).toBeDefined();
    const trace = getRunTrace(s.sql, made?.runId as string);
    if (!trace) throw new Error("no trace context");
    const chats = sink.spans.filter((x) => x.attributes[GEN_AI.operation] === "chat");
    const summaries = chats.filter((x) => x.attributes[DURABLE_AGENTS.compaction] === true);
    // 4 steps and 1 summary call, each its own chat span.
    expect(chats).toHaveLength(5);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      name: "chat words-model",
      kind: "client",
      traceId: trace.traceId,
      parentSpanId: stepSpanId(trace, 2, 1),
      attributes: {
        [GEN_AI.provider]: "scripted",
        [GEN_AI.requestModel]: "words-model",
        [GEN_AI.finishReasons]: ["stop"],
        [GEN_AI.inputTokens]: made?.data.usage?.inputTokens,
        [GEN_AI.outputTokens]: made?.data.usage?.outputTokens,
        [DURABLE_AGENTS.runId]: made?.runId,
        [DURABLE_AGENTS.step]: 2,
        [DURABLE_AGENTS.attempt]: 1,
      },
    });
    // The step's own call is not marked, and the summary call came before it.
    const answer = chats.find(
      (x) =>
        x.parentSpanId === stepSpanId(trace, 2, 1) &&
        x.attributes[DURABLE_AGENTS.compaction] !== true,
    );
    expect(answer?.attributes[DURABLE_AGENTS.compaction]).toBeUndefined();
    expect(summaries[0]?.endTime).toBeLessThanOrEqual(answer?.startTime ?? Number.NaN);
    expectWellFormed(sink.spans);
  });

  it("a summary call whose summary is refused has its span, with the error, and its step's span ends with it", async () => {
    const model = scriptedModel({
      rules: [
        ({ prompt }) =>
          prompt[0]?.role === "system" && prompt[0].content !== SYSTEM ? { text: " " } : undefined,
        ({ turn, userText }) =>
          turn === 0
            ? { toolCalls: [{ name: "lookup", args: { word: userText } }] }
            : { text: `looked up ${userText}` },
      ],
    });
    const sink = memorySink();
    const s = createTestSession(
      wordsAgent([], { keepMessages: 3, compactAfterMessages: 6 }, { model }),
      { tracing: { runs: runTracing(sink) }, pump: { backoffBaseMs: 10 } },
    );
    await runs(s, ["alpha"]);
    await settle(s, "beta");
    expect(s.runtime.ledger.read(0).at(-1)?.kind).toBe("run.failed");
    const summaries = sink.spans.filter((x) => x.attributes[DURABLE_AGENTS.compaction] === true);
    expect(summaries.length).toBeGreaterThan(1);
    for (const span of summaries) {
      expect(span.error?.code).toBe("empty_summary");
      expect(span.attributes[GEN_AI.errorType]).toBe("empty_summary");
      expect(span.attributes[GEN_AI.inputTokens]).toBeGreaterThan(0);
    }
    expectWellFormed(sink.spans);
  });

  it("a sub-agent's run joins its caller's trace, under the calling step", async () => {
    const researcher = defineAgent({
      name: "researcher",
      system: "",
      model: scriptedModel({ turns: [{ text: "Findings." }] }),
    });
    const lead = defineAgent({
      name: "lead",
      system: "",
      tools: [
        defineSubagent({
          name: "research",
          description: "Researches a topic",
          agent: "researcher",
          input: z.object({ topic: z.string() }),
          message: ({ topic }) => `Research ${topic}`,
        }),
      ],
      model: scriptedModel({
        rules: [
          ({ turn }) =>
            turn === 0
              ? { toolCalls: [{ name: "research", args: { topic: "otters" } }] }
              : { text: "Done." },
        ],
      }),
    });
    const sink = memorySink();
    const clock = new ManualClock();
    const sessions = new Map<string, TestSession>();
    const open = (agent: string, id: string): TestSession => {
      let found = sessions.get(`${agent}/${id}`);
      if (!found) {
        found = createTestSession(
          agent === "lead" ? lead : researcher,
          { sessionId: id, subagents: { send: deliver }, tracing: { runs: runTracing(sink) } },
          { sql: new NodeSqlPort(), clock },
        );
        sessions.set(`${agent}/${id}`, found);
      }
      return found;
    };
    async function deliver(message: SubagentMessage) {
      if (message.type === "start")
        await open(message.agent, message.session).runtime.startChild(message);
      else if (message.type === "reply")
        await open(message.parent.agent, message.parent.session).runtime.receiveReply(message);
      return undefined;
    }
    const parent = open("lead", "p1");
    const { runId } = await parent.runtime.start({ message: "otters?" });
    for (let round = 0; round < 20; round++) {
      let fired = 0;
      for (const s of sessions.values()) fired += await s.drain();
      if (fired === 0) break;
    }
    expect(parent.runtime.ledger.read(0).at(-1)?.kind).toBe("run.completed");
    const trace = getRunTrace(parent.sql, runId);
    if (!trace) throw new Error("no trace context");
    const child = sessions.get("researcher/p1.call_0_0");
    if (!child) throw new Error("no child session");
    const childRun = child.runtime.ledger.read(0).find((e) => e.kind === "run.started");
    expect(childRun?.data).toMatchObject({
      trace: { traceId: trace.traceId, parentSpanId: stepSpanId(trace, 1, 1) },
    });
    const [childSpan] = sink.spans.filter((x) => x.name === "invoke_agent researcher");
    expect(childSpan).toMatchObject({
      traceId: trace.traceId,
      parentSpanId: stepSpanId(trace, 1, 1),
    });
    expect(new Set(sink.spans.map((x) => x.traceId))).toEqual(new Set([trace.traceId]));
    const [childChat] = sink.spans.filter(
      (x) =>
        x.attributes[GEN_AI.operation] === "chat" &&
        x.attributes[GEN_AI.agentName] === "researcher",
    );
    const childTrace = getRunTrace(child.sql, childRun?.runId ?? "");
    if (!childTrace) throw new Error("no child trace context");
    expect(childChat?.parentSpanId).toBe(stepSpanId(childTrace, 1, 1));
    expect(sink.spans.find((x) => x.spanId === stepSpanId(childTrace, 1, 1))?.parentSpanId).toBe(
      childTrace.spanId,
    );
  });

  it("without a sink: no trace ids in the ledger and no run_traces table", async () => {
    const s = createTestSession(mathAgent);
    await s.runtime.start({ message: "2+3?" });
    await s.drain();
    const started = s.runtime.ledger.read(0).find((e) => e.kind === "run.started");
    expect(started?.data).not.toHaveProperty("trace");
    expect(s.sql.exec("SELECT name FROM sqlite_master WHERE name = 'run_traces'")).toEqual([]);
  });
});
