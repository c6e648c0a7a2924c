/**
 * Tier 3: OpenTelemetry traces of a run under a real `wrangler dev` (test/otel-worker: the
 * quickstart's assistant with `tracing: otelTracing()`), exported with the official OTLP/HTTP
 * JSON exporter to a loopback receiver (a Node http server). The run has two steps and a tool
 * call; wrangler dev is SIGKILLed while the answer streams and restarted on the same state, so
 * the answer's step is redriven by a new object in a new process.
 */
import { rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.ts";
import { isTerminal, tempState, waitForLedger } from "./e2e-support.ts";

const WORKER = resolve(import.meta.dirname, "../otel-worker");

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: OtlpValue }[];
  links?: { traceId: string; spanId: string; attributes?: { key: string; value: OtlpValue }[] }[];
  status?: { code?: number; message?: string };
}
interface OtlpRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

/** An OTLP/HTTP receiver on loopback: keeps every POST /v1/traces body (JSON). */
async function receiver(): Promise<{
  url: string;
  requests: OtlpRequest[];
  types: string[];
  server: Server;
}> {
  const requests: OtlpRequest[] = [];
  const types: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") {
        types.push(req.headers["content-type"] ?? "");
        requests.push(JSON.parse(body) as OtlpRequest);
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, requests, types, server };
}

function value(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return v.arrayValue.values.map(value);
  return undefined;
}

function attrs(list: { key: string; value: OtlpValue }[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, value(a.value)]));
}

const spansOf = (requests: OtlpRequest[]) =>
  requests.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)));

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = check();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let dev: WranglerDev | undefined;
let sink: Server | undefined;
const states: string[] = [];
afterEach(async () => {
  await dev?.stop();
  dev = undefined;
  await new Promise((done) => (sink ? sink.close(done) : done(undefined)));
  sink = undefined;
  for (const state of states.splice(0)) rmSync(state, { recursive: true, force: true });
});

function start(state: string, vars: Record<string, string>): Promise<WranglerDev> {
  return startWranglerDev({
    cwd: WORKER,
    persistTo: state,
    vars,
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
}

async function run(baseUrl: string, session: string, message: string): Promise<void> {
  const response = await fetch(`${baseUrl}/agents/assistant/${session}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: { message } }),
  });
  expect(response.status).toBe(202);
}

describe("OpenTelemetry traces over OTLP/HTTP", () => {
  it("a two-step run with a tool call, crashed mid-answer and redriven: one trace, GenAI spans, usage, a redrive link", async () => {
    const otlp = await receiver();
    sink = otlp.server;
    const state = tempState("e2e-otel");
    states.push(state);
    const vars = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, SCRIPTED_DELAY_MS: "250" };
    const session = "traced-1";
    dev = await start(state, vars);
    await run(dev.baseUrl, session, "remember the traced note");
    await waitForLedger(dev.baseUrl, session, (events) =>
      events.some((e) => e.kind === "model.delta" && e.data.step === 2),
    );
    await dev.kill();
    dev = await start(state, vars);
    const events = await waitForLedger(dev.baseUrl, session, (all) => all.some(isTerminal));
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(
      events.some((e) => e.kind === "step.started" && e.data.step === 2 && e.data.attempt === 2),
    ).toBe(true);
    const started = events.find((e) => e.kind === "run.started");
    if (!started) throw new Error("no run.started");
    const { traceId, spanId: runSpanId } = started.data.trace as {
      traceId: string;
      spanId: string;
    };
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const runId = started.runId;

    const spans = await until("the run span", () => {
      const all = spansOf(otlp.requests);
      return all.some((s) => s.name === "invoke_agent assistant") ? all : undefined;
    });
    // OTLP/HTTP with the JSON encoding (the official exporter's browser build, in workerd).
    expect(new Set(otlp.types)).toEqual(new Set(["application/json"]));
    const resource = attrs(otlp.requests[0]?.resourceSpans[0]?.resource.attributes);
    expect(resource["service.name"]).toBe("otel-e2e");
    // Every span, from both processes, is in the run's recorded trace.
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
    const named = (name: string) => spans.filter((s) => s.name === name);

    const [root] = named("invoke_agent assistant");
    expect(root?.spanId).toBe(runSpanId);
    expect(root?.parentSpanId ?? "").toBe("");
    expect(attrs(root?.attributes)).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "assistant",
      "durable_agents.session.id": session,
      "durable_agents.run.id": runId,
      "durable_agents.run.status": "completed",
    });

    const [step1] = named("step 1");
    const [step2] = named("step 2");
    expect(named("step 2")).toHaveLength(1); // the killed attempt never ended
    expect(step1?.parentSpanId).toBe(runSpanId);
    expect(step2?.parentSpanId).toBe(runSpanId);
    expect(attrs(step1?.attributes)).toMatchObject({ "durable_agents.step.attempt": 1 });
    expect(attrs(step2?.attributes)).toMatchObject({ "durable_agents.step.attempt": 2 });
    // The redriven step links to its run's span.
    expect(step1?.links ?? []).toEqual([]);
    expect(step2?.links).toHaveLength(1);
    expect(step2?.links?.[0]).toMatchObject({ traceId, spanId: runSpanId });
    expect(attrs(step2?.links?.[0]?.attributes)).toEqual({ "durable_agents.link": "redrive" });

    const [tool] = named("execute_tool notes");
    const toolStarted = events.find((e) => e.kind === "tool.started");
    expect(tool?.parentSpanId).toBe(step1?.spanId);
    expect(attrs(tool?.attributes)).toMatchObject({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "notes",
      "gen_ai.tool.call.id": toolStarted?.data.callId,
      "durable_agents.tool.idempotency_key": toolStarted?.data.idempotencyKey,
    });

    // One chat span per finished model call, under its step, with the ledger's usage.
    const chats = spans.filter((s) => attrs(s.attributes)["gen_ai.operation.name"] === "chat");
    const completed = events.filter((e) => e.kind === "model.completed");
    expect(chats.map((s) => s.parentSpanId)).toEqual([step1?.spanId, step2?.spanId]);
    expect(chats.map((s) => s.kind)).toEqual([3, 3]); // SPAN_KIND_CLIENT
    for (const [i, chat] of chats.entries()) {
      const usage = completed[i]?.data.usage as { inputTokens: number; outputTokens: number };
      const model = String(completed[i]?.data.model);
      expect(chat.name).toBe(`chat ${model.slice(model.indexOf(":") + 1)}`);
      expect(attrs(chat.attributes)).toMatchObject({
        "gen_ai.request.model": model.slice(model.indexOf(":") + 1),
        "gen_ai.usage.input_tokens": usage.inputTokens,
        "gen_ai.usage.output_tokens": usage.outputTokens,
        "durable_agents.run.id": runId,
      });
      expect(usage.outputTokens).toBeGreaterThan(0);
    }
    for (const s of spans)
      expect(BigInt(s.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(s.startTimeUnixNano));
  });

  it("a sub-agent's run, in another Durable Object, joins its caller's trace under the calling step", async () => {
    const otlp = await receiver();
    sink = otlp.server;
    const state = tempState("e2e-otel-sub");
    states.push(state);
    dev = await start(state, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, SCRIPTED_DELAY_MS: "0" });
    await run(dev.baseUrl, "traced-sub", "research durable objects");
    const events = await waitForLedger(dev.baseUrl, "traced-sub", (all) => all.some(isTerminal));
    expect(events.at(-1)?.kind).toBe("run.completed");
    const trace = events.find((e) => e.kind === "run.started")?.data.trace as { traceId: string };
    const spans = await until("both agents' run spans", () => {
      const all = spansOf(otlp.requests);
      const names = new Set(all.map((s) => s.name));
      return names.has("invoke_agent assistant") && names.has("invoke_agent researcher")
        ? all
        : undefined;
    });
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([trace.traceId]));
    const child = spans.find((s) => s.name === "invoke_agent researcher");
    const callingStep = spans.find((s) => s.spanId === child?.parentSpanId);
    expect(callingStep?.name).toBe("step 1");
    expect(attrs(callingStep?.attributes)).toMatchObject({ "gen_ai.agent.name": "assistant" });
    expect(attrs(child?.attributes)["durable_agents.session.id"]).toMatch(/^traced-sub\./);
  });

  it("with tracing off (no endpoint), runs carry no trace ids and nothing is exported", async () => {
    const otlp = await receiver();
    sink = otlp.server;
    const state = tempState("e2e-otel-off");
    states.push(state);
    dev = await start(state, { SCRIPTED_DELAY_MS: "0" });
    await run(dev.baseUrl, "untraced-1", "What is 2+3?");
    const events = await waitForLedger(dev.baseUrl, "untraced-1", (all) => all.some(isTerminal));
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(events.find((e) => e.kind === "run.started")?.data).not.toHaveProperty("trace");
    await dev.stop();
    dev = undefined;
    // Stopped after the run ended: a traced run would have exported at each step's end.
    expect(otlp.requests).toEqual([]);
  });
});
