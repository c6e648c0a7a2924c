/**
 * docs/api.md's examples, run as tests. Every ```ts block in docs/api.md must
 * appear verbatim (whitespace aside) in this file, and each one runs below.
 * `fetch` and `base` stand for the app's fetch and its Worker's URL.
 */
import { env, SELF } from "cloudflare:test";
import {
  admitCall,
  defineAgent,
  defineEvent,
  defineProjection,
  defineSubagent,
  defineTool,
  defineTrigger,
  HookRegistry,
  mintIndexToken,
  mintSessionToken,
  on,
  resolveDomains,
  runTracing,
  type SessionHooks,
  type SpanRecord,
  scriptedModel,
  toolJsonSchema,
} from "@durable-agents/core";
import { cronSchedules, nextCronTime, parseCron } from "@durable-agents/core/cron";
import { mcpServer } from "@durable-agents/core/mcp";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { tool } from "ai";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import apiMd from "../../../docs/api.md?raw";
import { d1Index, retentionHandler } from "../src/d1/index.ts";
import {
  AgentRegistry,
  agentRuns,
  allowLocalDev,
  createAgentServer,
  createAgentWorkflow,
  createStore,
  createToolWorkflow,
  LockManager,
  type RouterEnv,
  routeRequest,
  type SessionEndpoint,
} from "../src/index.ts";
import { otelTracing } from "../src/otel/index.ts";
import self from "./docs.test.ts?raw";
import { migrateIndexDb, resetIndexDb } from "./support/index-db.ts";
import { BASE } from "./support/session.ts";

const base = BASE;
const fetch = (input: string | URL, init?: RequestInit) => SELF.fetch(input, init);
const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 400 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
};

/** The lock binding typed as README types AGENTS: `{ LOCKS: DurableObjectNamespace }`. */
function readmeEnv(): { LOCKS: DurableObjectNamespace } {
  return { LOCKS: env.LOCKS as unknown as DurableObjectNamespace };
}

describe("docs/api.md", () => {
  it("every ts example in docs/api.md is in this file", () => {
    // Whitespace and trailing commas aside: Biome wraps code in Markdown at another width.
    const squash = (code: string) => code.replace(/\s+/g, "").replace(/,(?=[)\]}])/g, "");
    const source = squash(self);
    const blocks = [...apiMd.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    expect(blocks.length).toBeGreaterThan(5);
    for (const block of blocks) expect(source, block).toContain(squash(block));
  });

  it("Whole runs on Cloudflare Workflows", async () => {
    const planner = defineAgent({
      name: "planner",
      system: "You plan trips.",
      model: scriptedModel({ turns: [{ text: "Planned." }] }),
      executor: "workflow",
    });

    const PlannerSession = createAgentServer({ agents: [planner] });
    const AgentWorkflow = createAgentWorkflow({ agents: [planner] });

    expect(planner.executor).toBe("workflow");
    expect(PlannerSession.agents).toEqual(["planner"]);
    expect(typeof AgentWorkflow).toBe("function");
    // The same start body chooses the executor per run: a fixture agent on the Workflow executor.
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session: "docs-wf" });
    const started = await fetch(`${base}/agents/chatty/docs-wf/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "hi" }, executor: "workflow" }),
    });
    expect(started.status).toBe(202);
    let last: { kind: string; data: { executor?: string } }[] = [];
    await until(async () => {
      const page = await fetch(`${base}/agents/chatty/docs-wf/events?offset=-1`, {
        headers: { authorization: `Bearer ${token}` },
      });
      last = (await page.json()) as typeof last;
      return last.at(-1)?.kind === "run.completed";
    });
    expect(last[0]?.data.executor).toBe("workflow");
    expect(last.at(-1)?.kind).toBe("run.completed");
  });

  it("MCP servers as tool sources", async () => {
    const docs = mcpServer({
      name: "docs",
      url: ({ DOCS_MCP_URL }) => String(DOCS_MCP_URL),
      bearerTokenEnv: "DOCS_MCP_TOKEN",
      tools: { search_docs: "search", fetch_page: "fetch_page" },
      effects: { search: "pure", fetch_page: "pure" },
      needsApproval: ["fetch_page"],
      timeoutMs: 30_000,
    });

    const librarian = defineAgent({
      name: "librarian",
      system: "You answer from the docs.",
      model: scriptedModel({ turns: [{ text: "See the docs." }] }),
      mcp: [docs],
    });

    expect(librarian.mcp).toEqual([docs]);
    expect(docs.effectOf("search")).toBe("pure");
    expect(docs.effectOf("anything_else")).toBe("irreversible");
    expect(docs.needsApproval("fetch_page", {})).toBe(true);
    expect(docs.needsApproval("search", {})).toBe(false);
    // Without its token, the server is not contacted: a clear error names the variable.
    await expect(docs.list({ DOCS_MCP_URL: "http://docs.invalid/mcp" })).rejects.toMatchObject({
      code: "mcp_credentials_missing",
    });
  });

  it("agents served over MCP", async () => {
    const mcpToken = await mintSessionToken(env.AUTH_SECRET, {
      agent: "chatty",
      session: "mcp-doc",
    });
    const mcpClient = new Client({ name: "my-app", version: "1.0.0" });
    await mcpClient.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp/chatty`), {
        fetch,
        requestInit: { headers: { authorization: `Bearer ${mcpToken}` } },
      }),
    );
    const { tools } = await mcpClient.listTools();
    const pieces: string[] = [];
    const reply = await mcpClient.callTool(
      { name: "chatty", arguments: { message: "Hello", session: "mcp-doc" } },
      undefined,
      { onprogress: ({ message }) => pieces.push(message ?? "") },
    );

    expect(tools.map((t) => t.name)).toEqual(["chatty"]);
    expect(reply.content).toEqual([{ type: "text", text: pieces.join("") }]);
    await mcpClient.close();
  });

  it("agents, tools and triggers", () => {
    const transfer = defineTool({
      name: "transfer",
      description: "Moves money between accounts",
      input: z.object({ amount: z.number().positive().max(1_000) }),
      effect: "irreversible",
      needsApproval: ({ amount }) => amount > 100,
      execute: ({ amount }, ctx) => ({ sent: amount, reference: ctx.idempotencyKey }),
    });

    const research = defineSubagent({
      name: "research",
      description: "Researches a topic",
      agent: "researcher",
      input: z.object({ topic: z.string() }),
      message: ({ topic }) => `Research ${topic}`,
    });

    const banker = defineAgent({
      name: "banker",
      system: "You move money carefully.",
      model: scriptedModel({ turns: [{ text: '{"done": true}' }] }),
      tools: [transfer, research],
      outputSchema: z.object({ done: z.boolean() }),
    });

    const digest = defineTrigger({
      kind: "daily-digest",
      payload: z.object({ topic: z.string() }),
      run: async ({ topic }, ctx) => {
        await ctx.startRun(`Write today's digest about ${topic}`);
      },
    });

    expect(banker.tools.map((t) => t.name)).toEqual(["transfer", "research"]);
    expect(banker.maxSteps).toBe(10);
    const needs = transfer.needsApproval as (input: { amount: number }) => boolean;
    expect([needs({ amount: 50 }), needs({ amount: 500 })]).toEqual([false, true]);
    expect(research.delegate.message({ topic: "otters" })).toBe("Research otters");
    expect(digest.kind).toBe("daily-digest");
    for (const kind of ["run.step", "workflow.create", "subagent.send", "hook.on_complete"])
      expect(() => defineTrigger({ ...digest, kind })).toThrow(/reserved for the runtime/);
  });

  it("app events and projections", async () => {
    const noteAdded = defineEvent("note.added", z.object({ text: z.string().min(1) }));

    const noteStats = defineProjection({
      name: "note_stats",
      version: 1,
      events: [noteAdded],
      reduce(store, event) {
        store.put("count", (store.get<number>("count") ?? 0) + 1);
        store.put("last", event.payload.text);
      },
    });

    const saveNote = defineTool({
      name: "save_note",
      description: "Saves a note",
      input: z.object({ text: z.string() }),
      effect: "idempotent",
      execute: ({ text }, ctx) => {
        ctx.emit(noteAdded, { text });
        return { saved: text, before: ctx.projection("note_stats").get<number>("count") ?? 0 };
      },
    });

    const mirror = on(noteAdded, (event, ctx) => {
      ctx.transaction((sql) => {
        sql.exec("CREATE TABLE IF NOT EXISTS mirrored (seq INTEGER PRIMARY KEY, text TEXT)");
        sql.exec("INSERT INTO mirrored (seq, text) VALUES (?, ?)", event.seq, event.payload.text);
      });
    });

    const notebook = defineAgent({
      name: "notebook",
      system: "You keep notes.",
      model: scriptedModel({ turns: [{ text: "Noted." }] }),
      tools: [saveNote],
    });

    const NotebookSession = createAgentServer({
      agents: [notebook],
      projections: [noteStats],
      subscriptions: [mirror],
    });

    expect(noteAdded.kind).toBe("app.note.added");
    expect(typeof NotebookSession).toBe("function");
    expect(() => defineEvent("Bad Name", z.object({}))).toThrow(/lowercase/);
    expect(() =>
      createAgentServer({ agents: [notebook], projections: [noteStats, noteStats] }),
    ).toThrow(/registered twice/);
    expect(() =>
      createAgentServer({ agents: [notebook], subscriptions: [mirror, mirror] }),
    ).toThrow(/two subscriptions are named "note.added"/);

    // The routes, on the test worker's "noter" agent (its note_stats projection, fixture/app-events.ts).
    const session = `docs-proj-${Date.now()}`;
    const headers = {
      authorization: `Bearer ${await mintSessionToken(env.AUTH_SECRET, { agent: "noter", session })}`,
    };
    const adminToken = await mintSessionToken(env.AUTH_SECRET, {
      agent: "noter",
      session,
      scope: ["read", "write", "admin"],
    });
    await fetch(`${base}/agents/noter/${session}/notes`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello" }),
    });
    const listed = await fetch(`${base}/agents/noter/${session}/projections`, { headers });
    const { projections } = (await listed.json()) as {
      projections: { name: string; status: "current" | "needs_rebuild" }[];
    };
    const rebuilt = await fetch(`${base}/agents/noter/${session}/projections`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ rebuild: "note_stats" }),
    });

    expect(projections).toEqual([
      { name: "note_stats", version: 1, storedVersion: 1, status: "current" },
    ]);
    expect(rebuilt.status).toBe(200);
    const rows = await fetch(`${base}/agents/noter/${session}/notes`, { headers });
    expect(((await rows.json()) as { rows: unknown[] }).rows).toContainEqual({
      key: "count",
      value: 1,
    });
  });

  it("app code schedules and triggers write SQL", () => {
    const noteAdded = defineEvent("note.added", z.object({ text: z.string().min(1) }));
    const followUp = defineTrigger({
      kind: "follow-up",
      payload: z.object({ text: z.string() }),
      run: ({ text }, ctx) => {
        ctx.transaction((sql) => {
          sql.exec("CREATE TABLE IF NOT EXISTS follow_ups (key TEXT PRIMARY KEY, text TEXT)");
          sql.exec("INSERT OR REPLACE INTO follow_ups (key, text) VALUES (?, ?)", ctx.key, text);
        });
        ctx.emit(noteAdded, { text: `follow up: ${text}` });
      },
    });

    const remind = defineTool({
      name: "remind",
      description: "Reminds the team every weekday at nine",
      input: z.object({ text: z.string() }),
      effect: "idempotent",
      execute: async ({ text }, ctx) => {
        const schedule = await ctx.schedule({
          kind: "follow-up",
          key: "standup",
          cron: "0 9 * * MON-FRI",
          payload: { text },
        });
        return { next: schedule.dueAt };
      },
    });

    expect(followUp.kind).toBe("follow-up");
    expect(remind.effect).toBe("idempotent");
  });

  it("hooks that act on the run, and HookRegistry", async () => {
    const banker = defineAgent({
      name: "banker",
      system: "You move money carefully.",
      model: scriptedModel({ turns: [{ text: "Done." }] }),
    });

    const hooks = new HookRegistry();
    hooks.register("afterCommand", async ({ command, input, execution, interrupt }) => {
      const { metric, value } = input as { metric: string; value: number };
      if (command !== "usage.record" || metric !== "spend") return;
      if (value > 10 && execution.status === "running") await interrupt("over budget");
    });
    const ended: string[] = [];
    const stopListening = hooks.register("onComplete", ({ status, runId }) => {
      ended.push(`${runId}: ${status}`);
    });

    const Budgeted = createAgentServer({ agents: [banker], hooks });
    stopListening(); // or hooks.unregister("onComplete", fn), hooks.clear("onComplete"), hooks.clear()

    expect(typeof Budgeted).toBe("function");
    expect([hooks.count("afterCommand"), hooks.count("onComplete")]).toEqual([1, 0]);
    expect(hooks.onComplete).toBeUndefined();
    // The guard interrupts only a running run, through the command it is handed.
    const stops: string[] = [];
    const guard = hooks.afterCommand as NonNullable<SessionHooks["afterCommand"]>;
    const ctx = (status: string) =>
      ({
        command: "usage.record",
        input: { metric: "spend", value: 20 },
        execution: { status, runId: "r1", step: 1 },
        interrupt: async (reason?: string) => void stops.push(String(reason)),
      }) as unknown as Parameters<typeof guard>[0];
    await guard(ctx("running"), new Response());
    await guard(ctx("waiting"), new Response());
    expect(stops).toEqual(["over budget"]);
    hooks.clear();
    expect(hooks.afterCommand).toBeUndefined();
    expect(ended).toEqual([]);
  });

  it("governed tools: authority, domains and admit", async () => {
    const issue = defineTool({
      name: "issue",
      description: "Reads a GitHub issue",
      input: z.object({ repo: z.string(), number: z.number().int() }),
      effect: "pure",
      authority: "external",
      domains: ["github"],
      admit: ({ repo }) =>
        repo.startsWith("acme/")
          ? { admitted: true }
          : { admitted: false, reason: `only acme repositories, not ${repo}` },
      execute: async ({ repo, number }, ctx) => {
        const response = await ctx.fetch(`https://api.github.com/repos/${repo}/issues/${number}`);
        return (await response.json()) as { title: string };
      },
    });

    const triage = defineAgent({
      name: "triage",
      system: "You triage issues.",
      model: scriptedModel({ turns: [{ text: "Triaged." }] }),
      domains: { github: { allow: (env) => (env.GITHUB_HOSTS as string | undefined)?.split(",") } },
      tools: [issue],
    });

    expect(resolveDomains(triage, { GITHUB_HOSTS: "api.github.com" }).get("github")).toEqual([
      "api.github.com",
    ]);
    expect(() => resolveDomains(triage, {})).toThrow(/domain "github" has an empty allow-list/);
    const ids = {
      sessionId: "s",
      runId: "r",
      callId: "c",
      step: 1,
      idempotencyKey: "k",
      signal: new AbortController().signal,
      authority: "external" as const,
      query: () => [],
      state: { get: () => ({ state: null, version: 0 }) },
      projection: () => {
        throw new Error("no projections here");
      },
    };
    expect(await admitCall(issue, { repo: "acme/app", number: 1 }, ids)).toBeUndefined();
    expect(await admitCall(issue, { repo: "evil/app", number: 1 }, ids)).toEqual({
      code: "tool_refused",
      message: "issue was not admitted: only acme repositories, not evil/app",
    });
  });

  it("model calls: AI SDK tools, model options, prepareStep, timeouts", async () => {
    const weather = tool({
      description: "Current weather in a city",
      inputSchema: z.object({ city: z.string(), units: z.enum(["c", "f"]).default("c") }),
      execute: async ({ city, units }) => ({ city, units, temperature: 21 }),
    });

    const forecaster = defineAgent({
      name: "forecaster",
      system: "You answer weather questions.",
      model: scriptedModel({ turns: [{ text: "Sunny." }] }),
      tools: { weather: { ...weather, effect: "pure" } },
      modelOptions: {
        temperature: 0.3,
        maxOutputTokens: 1_024,
        stopSequences: ["END"],
        toolChoice: "auto",
        providerOptions: { anthropic: { thinking: { type: "enabled", budgetTokens: 2_048 } } },
        headers: { "x-team": "weather" },
      },
      prepareStep: ({ step }) => (step >= 3 ? { activeTools: [], toolChoice: "none" } : undefined),
      modelTimeouts: { firstTokenMs: 90_000, idleMs: 30_000 },
    });

    expect(forecaster.tools.map((t) => [t.name, t.effect])).toEqual([["weather", "pure"]]);
    expect(toolJsonSchema("weather", forecaster.tools[0]?.input ?? z.object({}))).toMatchObject({
      type: "object",
      required: ["city"],
    });
    const ctx = { sessionId: "s", runId: "r", attempt: 1, prompt: [], env: {} };
    expect(await forecaster.prepareStep?.({ ...ctx, step: 3 })).toEqual({
      activeTools: [],
      toolChoice: "none",
    });
    expect(await forecaster.prepareStep?.({ ...ctx, step: 1 })).toBeUndefined();
  });

  it("Context compaction", async () => {
    const longChat = defineAgent({
      name: "long-chat",
      system: "You help with long research sessions.",
      model: scriptedModel({ turns: [{ text: "Noted." }] }),
      context: {
        keepMessages: 40,
        compactAfterMessages: 200,
        compactAfterTokens: 100_000,
        summarize: async ({ messages, previousSummary }) =>
          `${previousSummary ?? "Earlier:"} ${messages.length} more messages.`,
      },
    });

    expect(longChat.context?.keepMessages).toBe(40);
    const signal = new AbortController().signal;
    const input = { messages: [], previousSummary: undefined, signal, sessionId: "s", runId: "r" };
    const summarize = longChat.context?.summarize;
    expect(summarize && (await summarize(input))).toBe("Earlier: 0 more messages.");
    expect(() =>
      defineAgent({ ...longChat, context: { keepMessages: 40, compactAfterMessages: 40 } }),
    ).toThrow(/compactAfterMessages \(40\) must be above context.keepMessages \(40\)/);
    expect(() => defineAgent({ ...longChat, context: { keepMessages: 40 } })).toThrow(
      /context has no trigger: set context\.compactAfterMessages/,
    );
  });

  it("files and images in a run's message, and the run's model options", async () => {
    const session = `doc-files-${Date.now()}`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const png =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII=";

    const withImage = await fetch(`${base}/agents/chatty/${session}/runs`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        input: {
          message: "What is in this picture?",
          files: [{ type: "image", image: `data:image/png;base64,${png}` }],
        },
        modelOptions: { temperature: 0.2, maxOutputTokens: 500, stopSequences: ["END"] },
      }),
    });

    expect(withImage.status).toBe(202);
    const events = await fetch(`${base}/agents/chatty/${session}/events?offset=-1`, { headers });
    const [started] = (await events.json()) as { kind: string; data: unknown }[];
    expect(started).toMatchObject({
      kind: "run.started",
      data: {
        input: {
          files: [{ type: "file", mediaType: "image/png", url: `data:image/png;base64,${png}` }],
        },
        modelOptions: { temperature: 0.2, maxOutputTokens: 500, stopSequences: ["END"] },
      },
    });

    const stolen = await fetch(`${base}/agents/chatty/${session}/runs`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        input: { message: "Who pays for this?" },
        modelOptions: { headers: { Authorization: "Bearer sk-someone-else" } },
      }),
    });
    // 400 { error: { code: "invalid_request", message: "... modelOptions.headers.Authorization: may not be set by a run ..." } }

    expect(stolen.status).toBe(400);
    const refused = (await stolen.json()) as { error: { code: string; message: string } };
    expect(refused.error.code).toBe("invalid_request");
    expect(refused.error.message).toContain(
      "modelOptions.headers.Authorization: may not be set by a run",
    );
    const after = await fetch(`${base}/agents/chatty/${session}/events?offset=-1`, { headers });
    expect(
      ((await after.json()) as { kind: string }[]).filter((e) => e.kind === "run.started"),
    ).toHaveLength(1);
  });

  it("triggers and schedules: cron names, time zones, cancellation", () => {
    const assistant = defineAgent({
      name: "assistant",
      system: "You are helpful.",
      model: scriptedModel({ turns: [{ text: "Hello!" }] }),
    });
    const invoices = defineTrigger({
      kind: "invoice-run",
      payload: z.object({ region: z.string() }),
      cancellation: "cooperative",
      run: async ({ region }, ctx) => {
        if (ctx.signal.aborted) return;
        await ctx.startRun(`Send the invoices for ${region}`);
      },
    });

    const Scheduled = createAgentServer({
      agents: [assistant],
      triggers: [invoices],
      cron: cronSchedules,
    });

    // parseCron and nextCronTime (also from @durable-agents/core/cron) compute the times.
    // Weekdays at 9:00 in Berlin: 07:00 UTC in summer time, 08:00 UTC in winter.
    const weekdays = parseCron("0 9 * * MON-FRI", "Europe/Berlin");
    const monday = nextCronTime(weekdays, Date.parse("2027-03-26T12:00:00Z"));
    const midnight = nextCronTime(parseCron("@daily"), Date.parse("2026-11-22T10:07:00Z"));

    expect(invoices.cancellation).toBe("cooperative");
    expect(typeof Scheduled).toBe("function");
    expect(new Date(monday).toISOString()).toBe("2027-03-29T07:00:00.000Z");
    expect(new Date(nextCronTime(weekdays, Date.parse("2026-11-20T12:00:00Z"))).toISOString()).toBe(
      "2026-11-23T08:00:00.000Z",
    );
    expect(new Date(midnight).toISOString()).toBe("2026-11-23T00:00:00.000Z");
  });

  it("tools on Cloudflare Workflows", () => {
    const transcode = defineTool({
      name: "transcode",
      description: "Transcodes a video; takes minutes",
      input: z.object({ url: z.string() }),
      effect: "idempotent",
      executor: "workflow",
      execute: async ({ url }, ctx) => ({ url, job: ctx.idempotencyKey }),
    });

    const editor = defineAgent({
      name: "editor",
      system: "You edit videos.",
      model: scriptedModel({ turns: [{ text: "Done." }] }),
      tools: [transcode],
    });

    const AgentSession = createAgentServer({ agents: [editor] });
    const ToolWorkflow = createToolWorkflow({ agents: [editor] });

    expect(editor.tools[0]?.executor).toBe("workflow");
    expect([typeof AgentSession, typeof ToolWorkflow]).toEqual(["function", "function"]);
  });

  it("server: createAgentServer and routeRequest", () => {
    const assistant = defineAgent({
      name: "assistant",
      system: "You are helpful.",
      model: scriptedModel({ turns: [{ text: "Hello!" }] }),
    });

    const hooks: SessionHooks = {
      beforeStart: async ({ request }) => {
        const body = (await request.json()) as { input?: { message?: string } };
        if (body.input?.message?.includes("forbidden"))
          return Response.json(
            { error: { code: "refused", message: "not here" } },
            { status: 422 },
          );
      },
      onComplete: ({ session, runId }) => console.info("run done", session, runId),
    };

    const endpoints: SessionEndpoint[] = [
      {
        method: "GET",
        action: "summary",
        handler: (_request, ctx) => Response.json({ status: ctx.runtime().status().status }),
      },
    ];

    const index = d1Index();

    const AgentSession = createAgentServer({
      agents: [assistant],
      hooks,
      endpoints,
      index,
      prices: { "*": { inputPerMillion: 0.15, outputPerMillion: 0.6 } },
    });

    const worker = {
      fetch: (request: Request, env: RouterEnv, ctx: ExecutionContext) =>
        routeRequest(request, env, ctx, { server: AgentSession }),
      scheduled: retentionHandler({ days: 90 }),
    };

    expect(typeof AgentSession).toBe("function");
    expect(typeof worker.fetch).toBe("function");
  });

  it("tracing (OpenTelemetry)", async () => {
    const assistant = defineAgent({
      name: "assistant",
      system: "You are helpful.",
      model: scriptedModel({ turns: [{ text: "Hello!" }] }),
    });

    const TracedSession = createAgentServer({
      agents: [assistant],
      tracing: otelTracing({ serviceName: "support-agents" }),
    });
    // wrangler.jsonc: "vars": { "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otlp.example.com" }

    const tracing = otelTracing({
      endpoint: (env) => (env.TRACES_URL ? String(env.TRACES_URL) : undefined),
      headers: (env) => ({ authorization: `Bearer ${String(env.TRACES_KEY)}` }),
    });
    const off = tracing({}); // no TRACES_URL: undefined, the session is not traced
    const traced = tracing({ TRACES_URL: "http://127.0.0.1:4318/v1/traces", TRACES_KEY: "k" });

    const spans: SpanRecord[] = [];
    const InMemory = createAgentServer({
      agents: [assistant],
      tracing: () => runTracing({ record: (span) => void spans.push(span), flush: async () => {} }),
    });

    expect(typeof TracedSession).toBe("function");
    expect(typeof InMemory).toBe("function");
    expect(off).toBeUndefined();
    expect(otelTracing()({})).toBeUndefined();
    expect(otelTracing()({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBeDefined();
    // The SDK and the exporter load and run in workerd; nothing listens there, and a failed
    // export never rejects. (workerd logs "Network connection lost" as uncaught for any
    // refused fetch with a body, even a caught one: that line in the output is not ours.)
    const sink = traced?.sink;
    sink?.record({
      name: "step 1",
      kind: "internal",
      traceId: "0af7651916cd43dd8448eb211c80319c",
      attributes: { "durable_agents.step": 1 },
      startTime: Date.now() - 5,
      endTime: Date.now(),
    });
    await expect(sink?.flush()).resolves.toBeUndefined();
  });

  it("server: a registry with factories, and local-dev auth", () => {
    const registry = new AgentRegistry();
    registry.registerFactory("support", ({ env }) =>
      defineAgent({
        name: "support",
        system: `You support ${String(env.PRODUCT ?? "our product")}.`,
        model: scriptedModel({ turns: [{ text: "How can I help?" }] }),
      }),
    );

    const AgentSession = createAgentServer({ agents: registry, authorize: allowLocalDev() });

    expect(registry.types()).toEqual(["support"]);
    expect(typeof AgentSession).toBe("function");
  });

  it("auth: mint a session token, start a run, read the snapshot and usage", async () => {
    const session = `doc-${Date.now()}`;
    const token = await mintSessionToken(env.AUTH_SECRET, {
      agent: "chatty",
      session,
      user: "ada",
      ttlSeconds: 3600,
    });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

    const started = await fetch(`${base}/agents/chatty/${session}/runs`, {
      method: "POST",
      headers,
      body: JSON.stringify({ input: { message: "Hi there" } }),
    });
    const { runId, offset } = (await started.json()) as { runId: string; offset: string };

    expect(started.status).toBe(202);
    expect(runId).toMatch(/^run_/);
    expect(offset).toBe("0000000000000000");
    await until(async () => {
      const r = await fetch(`${base}/agents/chatty/${session}/status`, { headers });
      return ((await r.json()) as { status: string }).status === "completed";
    });

    const snapshot = await fetch(`${base}/agents/chatty/${session}/snapshot`, { headers });
    const { messages, status } = (await snapshot.json()) as {
      messages: { role: string }[];
      status: { status: string };
      offset: string;
    };

    const usage = await fetch(`${base}/agents/chatty/${session}/usage`, { headers });
    const { rollup } = (await usage.json()) as { rollup: { inputTokens: number; cost: number } };

    expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(status.status).toBe("completed");
    expect(rollup.inputTokens).toBeGreaterThan(0);
    expect(rollup.cost).toBeGreaterThan(0);

    const history = await fetch(`${base}/agents/chatty/${session}/chat-history?limit=20`, {
      headers,
    });
    const { turns, activeRunId, prevCursor } = (await history.json()) as {
      turns: { runId: string; messages: { role: string }[]; chunks: unknown[] | null }[];
      activeRunId: string | null;
      prevCursor: string | null;
    };

    expect(turns.map((t) => [t.runId, t.messages.map((m) => m.role)])).toEqual([[runId, ["user"]]]);
    expect(turns[0]?.chunks?.[0]).toEqual({ type: "start", messageId: runId });
    expect(turns[0]?.chunks?.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    expect([activeRunId, prevCursor]).toEqual([null, null]);
  });

  it("a start with seed state, earlier messages and metadata", async () => {
    const session = `doc-seed-${Date.now()}`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "counter", session });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

    const seeded = await fetch(`${base}/agents/counter/${session}/runs`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        input: {
          message: "Count on from here",
          state: { count: 5 },
          messages: [
            { role: "user", content: "We were counting." },
            { role: "assistant", content: "Yes, up to 5." },
          ],
        },
        metadata: { ticket: "T-42" },
      }),
    });

    expect(seeded.status).toBe(202);
    await until(async () => {
      const r = await fetch(`${base}/agents/counter/${session}/status`, { headers });
      return ((await r.json()) as { status: string }).status === "completed";
    });
    const state = await fetch(`${base}/agents/counter/${session}/state`, { headers });
    expect(((await state.json()) as { state: unknown }).state).toEqual({ count: 16 });
    const page = await fetch(`${base}/agents/counter/${session}/messages`, { headers });
    const { messages } = (await page.json()) as { messages: { role: string }[] };
    expect(messages.slice(0, 3).map((m) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  it("state: an agent with state, and compare-and-set over HTTP with a retry", async () => {
    const board = defineAgent({
      name: "board",
      system: "You keep the team's board.",
      model: scriptedModel({ turns: [{ text: "Noted." }] }),
      initialState: { cards: [] },
      stateSchema: z.object({ cards: z.array(z.string().max(200)) }),
      tools: [
        defineTool({
          name: "add_card",
          description: "Adds a card to the board",
          input: z.object({ card: z.string() }),
          effect: "idempotent",
          execute: ({ card }, ctx) => {
            const { cards } = ctx.state.get().state as { cards: string[] };
            ctx.state.set({ cards: [...cards, card] });
            return { cards: cards.length + 1 };
          },
        }),
      ],
    });
    expect(board.initialState).toEqual({ cards: [] });

    const session = `doc-state-${Date.now()}`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "counter", session });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

    async function addOne(url: string, headers: Record<string, string>) {
      for (;;) {
        const read = await fetch(url, { headers });
        const { state, version } = (await read.json()) as {
          state: { count: number };
          version: number;
        };
        const write = await fetch(url, {
          method: "PUT",
          headers,
          body: JSON.stringify({ state: { count: state.count + 1 }, expectedVersion: version }),
        });
        // 409 version_conflict: another writer got in first; read again and reapply.
        if (write.status !== 409)
          return (await write.json()) as { version: number; offset: string };
      }
    }

    const url = `${base}/agents/counter/${session}/state`;
    const written = await Promise.all([1, 2, 3].map(() => addOne(url, headers)));
    expect(written.map((w) => w.version).sort()).toEqual([1, 2, 3]);
    expect(await (await fetch(url, { headers })).json()).toMatchObject({
      state: { count: 3 },
      version: 3,
    });
  });

  it("index: list sessions and usage across sessions", async () => {
    await resetIndexDb();
    await migrateIndexDb();
    const session = `doc-${Date.now()}`;
    const sessionToken = await mintSessionToken(env.AUTH_SECRET, {
      agent: "indexed",
      session,
      user: "ada",
      tags: ["beta"],
    });
    await fetch(`${base}/agents/indexed/${session}/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${sessionToken}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "ping" } }),
    });

    const admin = await mintIndexToken(env.AUTH_SECRET, { ttlSeconds: 300 });
    const list = await fetch(`${base}/sessions?agent=indexed&user=ada&tag=beta&limit=20`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const { sessions, nextCursor } = (await list.json()) as {
      sessions: { session: string; status: string }[];
      nextCursor: string | null;
    };

    await until(async () => {
      const r = await fetch(`${base}/sessions?agent=indexed&status=completed`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      return ((await r.json()) as { sessions: unknown[] }).sessions.length > 0;
    });
    const usage = await fetch(`${base}/usage?from=2026-01-01&agent=indexed&kind=model`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const { rows } = (await usage.json()) as {
      rows: { day: string; name: string; inputTokens: number }[];
    };

    expect(list.status).toBe(200);
    expect(sessions.length).toBeLessThanOrEqual(1);
    expect(nextCursor).toBeNull();
    expect(rows[0]?.name).toBe("scripted:scripted-1");
  });

  it("the store API for Worker code", async () => {
    const session = `doc-store-${Date.now()}`;
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "approver", session });
    await fetch(`${base}/agents/approver/${session}/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "wire" } }),
    });
    await until(
      async () =>
        (await createStore(env).session("approver", session).status()).status === "waiting",
    );
    const log = console.log;
    const logged: unknown[] = [];
    console.log = (...args: unknown[]) => void logged.push(args);

    const store = createStore(env);
    const chat = store.session("approver", session);
    const { status } = await chat.status();
    if (status === "waiting") {
      const moved = await chat.compareAndSetStatus("waiting", "interrupted", {
        reason: "shift ended",
      });
      console.log(moved.previous, moved.command);
    }
    const { checkpoints, nextCursor } = await chat.checkpoints({ limit: 20 });
    const { entries } = await chat.usageEntries({ kinds: ["model"], fromStep: 1, toStep: 3 });

    console.log = log;
    expect(logged).toEqual([["waiting", "interrupt"]]);
    expect((await chat.status()).status).toBe("interrupted");
    expect(checkpoints.map((c) => c.kind)).toEqual(["run.started"]);
    expect(nextCursor).toBeNull();
    expect(entries.map((e) => [e.kind, e.step])).toEqual([["model", 1]]);

    await resetIndexDb();

    if (!(await store.isMigrated())) await store.runMigrations();
    const page = await store.findSessionIds({ agent: "indexed", status: "completed", limit: 20 });
    const deleted = await store.deleteOldEntries({ days: 30, passes: 5 });

    expect(await store.migrationVersion()).toBe(4);
    expect(page).toEqual({ sessions: [], nextCursor: null });
    expect(deleted).toEqual({ usage: 0, sessions: 0, more: false });
  });

  it("run handles for Worker code", async () => {
    const log = console.log;
    const logged: unknown[] = [];
    console.log = (...args: unknown[]) => void logged.push(args);

    const runs = agentRuns(env);
    const run = await runs.execute("approver", "Pay the two invoices");
    const stop = await run.result();
    if (stop.status === "waiting") {
      const approvals = stop.pending.map((call) => ({ callId: call.callId, approved: true }));
      if ((await run.canResume({ approvals })).canResume) await run.resume({ approvals });
      for await (const event of run.stream({ offset: stop.offset })) {
        if (event.kind === "run.completed") console.log(event.data.output);
      }
    }

    console.log = log;
    expect(stop).toMatchObject({ status: "waiting", reason: "approval" });
    expect(logged).toEqual([['Results: [{"wired":10},{"wired":20}]']]);
  });

  it("locks: acquire, fenced write, release", async () => {
    // The Worker's env as README types it (a plain DurableObjectNamespace), not as `wrangler
    // types` does: the example compiles (tsc -b) either way.
    const env = readmeEnv();
    const locks = new LockManager(env.LOCKS);
    const name = `invoice-${Date.now()}`;

    const lease = await locks.acquire(name, { ttlMs: 10_000, owner: "worker-a" });
    await locks.fencedWrite(name, "status", "paid", lease.fencingToken);
    await locks.refresh(name, lease.fencingToken, 10_000);
    const held = await locks.isLocked(name);
    await locks.release(name, lease.fencingToken);

    expect(held).toBe(true);
    expect(await locks.fencedRead(name, "status")).toEqual({
      value: "paid",
      token: lease.fencingToken,
    });
  });
});
