import { env, SELF } from "cloudflare:test";
import { HttpAgent } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import { type LedgerEvent, LIMITS, mintSessionToken } from "@durable-agents/core";
import { afterEach, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { isTerminal, type SessionHandle, session, transcript } from "./support/session.ts";
import { readSse } from "./support/sse.ts";

afterEach(() => probe.reset());

interface StateBody {
  state: unknown;
  version: number;
  offset: string;
}

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const put = (s: SessionHandle, body: unknown) =>
  s.fetch(s.url("state"), {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

const readState = async (s: SessionHandle) => (await (await s.get("state")).json()) as StateBody;

const stateEvents = (events: readonly LedgerEvent[]) =>
  events.filter((e): e is LedgerEvent<"state.updated"> => e.kind === "state.updated");

async function countToEleven(s: SessionHandle, message = "count"): Promise<LedgerEvent[]> {
  await s.post("runs", { input: { message } });
  await s.waitFor(isTerminal, 20_000);
  return s.events();
}

describe("GET and PUT .../state", () => {
  it("starts at the agent's initialState (null without one), in GET state and the snapshot", async () => {
    const s = session("counter");
    expect(await readState(s)).toEqual({
      state: { count: 0 },
      version: 0,
      offset: "0000000000000000",
    });
    const snapshot = (await (await s.get("snapshot")).json()) as Record<string, unknown>;
    expect(snapshot).toMatchObject({ state: { count: 0 }, stateVersion: 0 });
    const plain = session("probe");
    expect(await readState(plain)).toMatchObject({ state: null, version: 0 });
    expect(await (await plain.get("snapshot")).json()).toMatchObject({ state: null });
  });

  it("PUT is compare-and-set: the right version commits; a stale one is a 409 that writes nothing", async () => {
    const s = session("counter");
    const first = await put(s, { state: { count: 5 }, expectedVersion: 0 });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ version: 1, offset: "0000000000000001" });
    const stale = await put(s, { state: { count: 6 }, expectedVersion: 0 });
    expect(stale.status).toBe(409);
    const { error } = (await stale.json()) as ErrorBody;
    expect(error.code).toBe("version_conflict");
    expect(error.details).toMatchObject({ currentVersion: 1 });
    expect(error.message).toContain("GET .../state again");
    expect(await readState(s)).toEqual({
      state: { count: 5 },
      version: 1,
      offset: "0000000000000001",
    });
    const [event] = await s.events();
    expect(event).toMatchObject({
      kind: "state.updated",
      runId: null,
      data: { state: { count: 5 }, version: 1, source: "client" },
    });
    const snapshot = (await (await s.get("snapshot")).json()) as Record<string, unknown>;
    expect(snapshot).toMatchObject({ state: { count: 5 }, stateVersion: 1 });
  });

  it("of 50 concurrent PUTs through the Worker with one expectedVersion, exactly one wins", async () => {
    const s = session("counter");
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => put(s, { state: { count: i }, expectedVersion: 0 })),
    );
    const won = responses.flatMap((r, i) => (r.status === 200 ? [i] : []));
    expect(won).toHaveLength(1);
    const losers = responses.filter((r) => r.status !== 200);
    expect(losers.map((r) => r.status)).toEqual(Array(49).fill(409));
    for (const r of losers)
      expect(((await r.json()) as ErrorBody).error.details).toMatchObject({ currentVersion: 1 });
    const events = await s.events();
    expect(stateEvents(events)).toHaveLength(1);
    expect(await readState(s)).toMatchObject({ state: { count: won[0] }, version: 1 });
  });

  it("bad input gets a 4xx and changes nothing", async () => {
    const s = session("counter");
    await put(s, { state: { count: 1 }, expectedVersion: 0 });
    const cases: [unknown, number, string][] = [
      [{ state: { count: 2 } }, 400, "expectedVersion"],
      [{ state: { count: 2 }, expectedVersion: "1" }, 400, "expectedVersion"],
      [{ state: { count: 2 }, expectedVersion: -1 }, 400, "expectedVersion"],
      [{ state: { count: 2 }, expectedVersion: 1.5 }, 400, "expectedVersion"],
      [{ expectedVersion: 1 }, 400, "state"],
      [{ state: { count: "two" }, expectedVersion: 1 }, 400, "count"],
      [{ state: { count: 2, label: 7 }, expectedVersion: 1 }, 400, "label"],
      ["{not json", 400, "not valid JSON"],
      ["[1]", 400, "the state body"],
    ];
    for (const [body, status, words] of cases) {
      const response = await put(s, body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(((await response.json()) as ErrorBody).error.message).toContain(words);
    }
    // Over the event limit, under the body limit: the ledger refuses it.
    const huge = { count: 2, label: "x".repeat(LIMITS.maxEventBytes) };
    const tooLarge = await put(s, { state: huge, expectedVersion: 1 });
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as ErrorBody).error.code).toBe("payload_too_large");
    // Over the body limit: the Worker refuses it before the object sees it.
    const body = JSON.stringify({ state: { count: 2 }, pad: "y".repeat(LIMITS.maxStateBodyBytes) });
    const tooLong = await put(s, body);
    expect(tooLong.status).toBe(413);
    expect(((await tooLong.json()) as ErrorBody).error.details).toEqual({
      limitBytes: LIMITS.maxStateBodyBytes,
    });
    // Other routes keep their small limit.
    const resume = await s.post("resume", body);
    expect(resume.status).toBe(413);
    expect(((await resume.json()) as ErrorBody).error.details).toEqual({
      limitBytes: LIMITS.maxBodyBytes,
    });
    expect(await readState(s)).toMatchObject({ state: { count: 1 }, version: 1 });
    expect((await s.events()).map((e) => e.kind)).toEqual(["state.updated"]);
  });

  it("takes a state past the 64 KiB body limit of other routes, up to the event limit", async () => {
    const s = session("counter");
    const label = "z".repeat(512 * 1024);
    const response = await put(s, { state: { count: 1, label }, expectedVersion: 0 });
    expect(response.status).toBe(200);
    expect(((await readState(s)).state as { label: string }).label).toHaveLength(label.length);
  });

  it("PUT needs the write scope; GET needs only read", async () => {
    const s = session("counter");
    const token = await mintSessionToken(env.AUTH_SECRET, {
      agent: "counter",
      session: s.session,
      scope: ["read"],
    });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    expect((await SELF.fetch(s.url("state"), { headers })).status).toBe(200);
    const refused = await SELF.fetch(s.url("state"), {
      method: "PUT",
      headers,
      body: JSON.stringify({ state: { count: 1 }, expectedVersion: 0 }),
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as ErrorBody).error.code).toBe("missing_scope");
    expect(await s.events()).toEqual([]);
  });
});

describe("tools write the state with their result", () => {
  it("each write commits as state.updated right after its tool.completed", async () => {
    const s = session("counter");
    const events = await countToEleven(s);
    expect(events.at(-1)?.kind).toBe("run.completed");
    const writes = stateEvents(events);
    expect(writes.map((e) => [e.data.state, e.data.version, e.data.source])).toEqual([
      [{ count: 1 }, 1, "tool"],
      [{ count: 11 }, 2, "tool"],
    ]);
    for (const write of writes) expect(events[write.seq - 2]?.kind).toBe("tool.completed");
    expect(await readState(s)).toMatchObject({ state: { count: 11 }, version: 2 });
  });

  it("a staged write is not visible until its call's result commits", async () => {
    const s = session("counter");
    probe.pauseAt("before-tool-commit");
    await s.post("runs", { input: { message: "count" } });
    while (probe.executions("fault:before-tool-commit") === 0)
      await new Promise((r) => setTimeout(r, 10));
    // The first bump ran and staged { count: 1 }; its tool.completed is not written yet.
    expect(await readState(s)).toMatchObject({ state: { count: 0 }, version: 0 });
    expect((await s.events()).map((e) => e.kind)).not.toContain("state.updated");
    probe.open("before-tool-commit");
    await s.waitFor(isTerminal, 20_000);
    expect(await readState(s)).toMatchObject({ state: { count: 11 }, version: 2 });
  });

  it("a crash before the result commits rolls the staged write back; the redrive writes it once", async () => {
    const golden = transcript(await countToEleven(session("counter")));
    const s = session("counter");
    probe.crashSessionAt(s.session, "before-tool-commit");
    const events = await countToEleven(s);
    expect(probe.executions(`fault:${s.session}`)).toBe(1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(transcript(events)).toEqual(golden);
    const first = events.find((e) => e.kind === "tool.started") as LedgerEvent<"tool.started">;
    expect(probe.executions(`bump:${first.data.idempotencyKey}`)).toBe(2);
    expect(stateEvents(events)).toHaveLength(2);
    expect(await readState(s)).toMatchObject({ state: { count: 11 }, version: 2 });
  });
});

describe("checkpoints", () => {
  it("a fork from a checkpoint has the state as of that checkpoint", async () => {
    const s = session("counter");
    await countToEleven(s);
    const { checkpoints } = (await (await s.get("checkpoints")).json()) as {
      checkpoints: { id: string; kind: string; step: number }[];
    };
    const expected = [
      [checkpoints.find((c) => c.kind === "run.started"), { count: 0 }, 0],
      [checkpoints.find((c) => c.step === 1), { count: 1 }, 1],
      [checkpoints.find((c) => c.step === 2), { count: 11 }, 2],
    ] as const;
    for (const [checkpoint, state, version] of expected) {
      // Into a session the server names: a token for the source may (docs/api.md#auth).
      const response = await s.post("fork", { checkpoint: checkpoint?.id });
      expect(response.status).toBe(201);
      const target = ((await response.json()) as { session: string }).session;
      expect(await readState(session("counter", target))).toMatchObject({ state, version });
    }
    expect(await readState(s)).toMatchObject({ state: { count: 11 }, version: 2 });
  });

  it("retry from a checkpoint restores the state as it was there, then the run goes on", async () => {
    const s = session("counter");
    const failed = await countToEleven(s, `fail once ${s.session}`);
    expect(failed.at(-1)?.kind).toBe("run.failed");
    expect((await put(s, { state: { count: 99 }, expectedVersion: 2 })).status).toBe(200);
    expect((await s.post("retry", { mode: "from_checkpoint" })).status).toBe(202);
    await s.waitFor((e) => e.kind === "run.completed", 20_000);
    const events = await s.events();
    const restore = stateEvents(events).at(-1);
    const lastStep = events.filter((e) => e.kind === "step.completed").at(-2);
    expect(restore?.data).toEqual({
      state: { count: 11 },
      version: 4,
      source: "restore",
      checkpoint: lastStep?.seq,
    });
    expect(events[restore?.seq ?? 0]?.kind).toBe("run.resumed");
    expect(await readState(s)).toMatchObject({ state: { count: 11 }, version: 4 });
  });
});

describe("the state over AG-UI", () => {
  it("STATE_SNAPSHOT carries it and STATE_DELTA replaces it; @ag-ui/client ends with it", async () => {
    const s = session("counter");
    const agent = new HttpAgent({
      url: s.url("agui"),
      threadId: s.session,
      fetch: (url, init) => s.fetch(url, init),
      initialMessages: [{ id: "u1", role: "user", content: "count" }],
    });
    await agent.runAgent({});
    expect(agent.state).toMatchObject({ status: "completed", state: { count: 11 } });

    const frames = await readSse(s.fetch, s.url("agui"), (e) => e.data.type === "RUN_FINISHED");
    for (const frame of frames) expect(EventSchemas.safeParse(frame.data).error).toBeUndefined();
    const snapshot = frames.find((f) => f.data.type === "STATE_SNAPSHOT");
    expect(snapshot?.data.snapshot).toMatchObject({ state: { count: 0 } });
    const values = frames.flatMap((f) =>
      f.data.type === "STATE_DELTA"
        ? (f.data.delta as { path: string; value: unknown }[]).filter((d) => d.path === "/state")
        : [],
    );
    expect(values.map((d) => d.value)).toEqual([{ count: 1 }, { count: 11 }]);
  });
});
