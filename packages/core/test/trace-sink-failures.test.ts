import { describe, expect, it } from "vitest";
import type { Logger } from "../src/index.ts";
import { latestRun, runTracing, type SpanRecord, type TraceSink } from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { SINK_FAILURE_LOG_MS, SinkFailures } from "../src/tracing/sink-failures.ts";
import { irreversibleAdder } from "./run-support.ts";

/** A sink that throws while `down`, counting the spans it lost, and keeps the rest. */
function switchableSink() {
  const state = { down: true, thrown: 0, kept: [] as SpanRecord[] };
  const sink: TraceSink = {
    record(span) {
      if (!state.down) return void state.kept.push(span);
      state.thrown++;
      throw new Error("the sink is down");
    },
    flush: async () => {},
  };
  return { sink, state };
}

/** Every line logged, at any level. */
function linesLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void =>
      void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { logger, lines };
}

describe("a trace sink that keeps throwing", () => {
  it("is logged at most once a minute (by the session's clock), each line counting the spans lost since the last", async () => {
    const { sink, state } = switchableSink();
    const { logger, lines } = linesLogger();
    const s = createTestSession(irreversibleAdder({ n: 0 }), {
      tracing: { runs: runTracing(sink) },
      logger,
    });
    const run = async () => {
      await s.runtime.start({ message: "add 2 and 3" });
      await s.drain();
      expect(latestRun(s.sql)?.status).toBe("completed");
    };
    const sinkLines = () => lines.filter((l) => l.message.startsWith("trace sink"));

    // A run's model calls, tool call, steps and segment: many spans, one line.
    await run();
    await run();
    const lostFirst = state.thrown;
    expect(lostFirst).toBeGreaterThan(4);
    expect(sinkLines()).toEqual([
      {
        level: "error",
        message: "trace sink failed",
        fields: {
          span: expect.any(String),
          traceId: expect.any(String),
          error: "the sink is down",
          lost: 1,
          lostTotal: 1,
        },
      },
    ]);

    // A minute later, the next failure logs the spans lost meanwhile, itself included.
    s.clock.advance(SINK_FAILURE_LOG_MS);
    await run();
    expect(sinkLines()).toHaveLength(2);
    expect(sinkLines()[1]).toMatchObject({
      level: "error",
      message: "trace sink failed",
      fields: { error: "the sink is down", lost: lostFirst, lostTotal: lostFirst + 1 },
    });

    // The sink comes back: the first span recorded a minute after the last line reports the rest.
    state.down = false;
    s.clock.advance(SINK_FAILURE_LOG_MS);
    await run();
    expect(state.kept.length).toBeGreaterThan(0);
    expect(sinkLines()).toHaveLength(3);
    expect(sinkLines()[2]).toMatchObject({
      level: "warn",
      message: "trace sink recovered",
      fields: { lost: state.thrown - lostFirst - 1, lostTotal: state.thrown },
    });
    // Every lost span is in exactly one line.
    const reported = sinkLines().reduce((n, l) => n + Number(l.fields?.lost), 0);
    expect(reported).toBe(state.thrown);
  });
});

describe("SinkFailures", () => {
  it("a clock set back opens a new window rather than silencing the log until it catches up", () => {
    const { logger, lines } = linesLogger();
    let now = 1_000_000;
    const clock = { now: () => now, sleep: async () => {} };
    const failures = new SinkFailures(clock, logger);
    const span = { name: "chat m", traceId: "t" } as SpanRecord;
    failures.failed(span, new Error("down"));
    failures.failed(span, new Error("down"));
    expect(lines).toHaveLength(1);
    now = 0;
    failures.failed(span, "still down");
    expect(lines.map((l) => l.fields?.lost)).toEqual([1, 2]);
    expect(lines[1]?.fields).toMatchObject({ error: "still down", lostTotal: 3 });
  });
});
