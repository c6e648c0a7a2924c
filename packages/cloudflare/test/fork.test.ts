import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { routeRequest } from "../src/index.ts";
import { LocalDevSession } from "./fixture/local-dev.ts";
import { isTerminal, normalized, session } from "./support/session.ts";

interface CheckpointList {
  checkpoints: { id: string; seq: number; step: number; kind: string }[];
  nextCursor: string | null;
}

describe("checkpoints and forks", () => {
  it("lists checkpoints with cursor pagination", async () => {
    const s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const first = (await (await s.get("checkpoints", "limit=2")).json()) as CheckpointList;
    expect(first.checkpoints.map((c) => [c.kind, c.step])).toEqual([
      ["run.started", 0],
      ["step.completed", 1],
    ]);
    const second = (await (
      await s.get("checkpoints", `limit=2&cursor=${first.nextCursor}`)
    ).json()) as CheckpointList;
    expect(second.checkpoints.map((c) => c.step)).toEqual([2, 3]);
    expect(second.nextCursor).toBeNull();
  });

  it("forks a session at a checkpoint: the fork has the prefix, the source is untouched, effects get new keys", async () => {
    const s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const sourceEvents = await s.events();
    const { checkpoints } = (await (await s.get("checkpoints")).json()) as CheckpointList;
    const afterStep1 = checkpoints.find((c) => c.step === 1)!;

    // Into a new session the server names: the source's token may (a named one needs a
    // credential for it too: auth.test.ts, and below under local dev).
    const response = await s.post("fork", { checkpoint: afterStep1.id });
    expect(response.status).toBe(201);
    const forked = (await response.json()) as { session: string; events: number };
    expect(forked).toMatchObject({ events: afterStep1.seq });
    const target = forked.session;
    expect(target).toMatch(new RegExp(`^${s.session}-fork-[0-9a-f]{8}$`));
    expect(await s.events()).toEqual(sourceEvents);

    const fork = session("probe", target);
    const forkEvents = await fork.events();
    expect(
      normalized(forkEvents.slice(0, afterStep1.seq).map((e) => [e.kind, e.data, e.ts])),
    ).toEqual(normalized(sourceEvents.slice(0, afterStep1.seq).map((e) => [e.kind, e.data, e.ts])));
    expect(forkEvents.at(-1)?.kind).toBe("run.interrupted");
    expect((await fork.status()).status).toBe("interrupted");

    expect((await fork.post("resume", { mode: "continue" })).status).toBe(202);
    await fork.waitFor((e) => e.kind === "run.completed");
    const keys = (await fork.events())
      .filter((e) => e.kind === "tool.started" && e.seq > afterStep1.seq)
      .map((e) => (e.data as { idempotencyKey: string }).idempotencyKey);
    expect(keys.length).toBe(1);
    expect(keys[0]).toContain(target);
    const sourceKeys = sourceEvents
      .filter((e) => e.kind === "tool.started")
      .map((e) => (e.data as { idempotencyKey: string }).idempotencyKey);
    expect(sourceKeys).not.toContain(keys[0]);
  });

  it("a server-named fork of a session whose id is 128 characters gets an id that is one (reachable by its routes)", async () => {
    const s = session("probe", `L${crypto.randomUUID().replaceAll("-", "")}`.padEnd(128, "x"));
    expect(s.session.length).toBe(128);
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const { checkpoints } = (await (await s.get("checkpoints")).json()) as CheckpointList;
    const response = await s.post("fork", { checkpoint: checkpoints[0]!.id });
    expect(response.status).toBe(201);
    const { session: named } = (await response.json()) as { session: string };
    expect(named).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/);
    expect(named).toMatch(/-fork-[0-9a-f]{8}$/);
    const fork = session("probe", named);
    expect((await fork.get("status")).status).toBe(200);
    // The copied prefix (a run started at that checkpoint, then its run.interrupted).
    expect((await fork.events()).length).toBeGreaterThanOrEqual(checkpoints[0]!.seq);
  });

  it("a fork at an unknown checkpoint is a 404 and creates nothing", async () => {
    const s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const before = await s.events();
    const response = await s.post("fork", { checkpoint: "9999" });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "unknown_checkpoint",
    );
    expect(await s.events()).toEqual(before);
  });

  it("a fork into a session that already exists: a token for the source alone hears 403, not whether it exists", async () => {
    const s = session("probe");
    const other = session("probe");
    for (const x of [s, other]) {
      await x.post("runs", { input: { message: "go" } });
      await x.waitFor(isTerminal);
    }
    const before = await other.events();
    const response = await s.post("fork", { checkpoint: "1", session: other.session });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "wrong_session",
    );
    expect(await other.events()).toEqual(before);
  });
});

/**
 * Local dev (allowLocalDev, AUTH_SECRET unset, over loopback) may write every session, so a
 * fork into a named one goes through there as documented, and reaches the target's own checks.
 */
describe("a fork into a named session under a rule that may write it (local dev)", () => {
  const local = "http://127.0.0.1:8787";
  const worker = (request: Request) =>
    routeRequest(request, { ...env, AGENTS: env.LOCAL_DEV }, undefined, {
      server: LocalDevSession,
    });
  const ask = (path: string, body?: unknown) =>
    worker(
      new Request(`${local}/agents/chatty/${path}`, {
        method: body === undefined ? "GET" : "POST",
        ...(body === undefined
          ? {}
          : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      }),
    );
  async function completedSession(): Promise<{ name: string; checkpoint: string }> {
    const name = `local-fork-${crypto.randomUUID().slice(0, 8)}`;
    expect((await ask(`${name}/runs`, { input: { message: "hi" } })).status).toBe(202);
    for (let i = 0; i < 200; i++) {
      const { status } = (await (await ask(`${name}/status`)).json()) as { status: string };
      if (status !== "running") break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const page = (await (await ask(`${name}/checkpoints`)).json()) as CheckpointList;
    return { name, checkpoint: page.checkpoints.at(-1)!.id };
  }

  it("forks into the session it names (201, the target has the prefix), and into one that exists is a 409", async () => {
    const source = await completedSession();
    const target = `${source.name}-named`;
    const forked = await ask(`${source.name}/fork`, {
      checkpoint: source.checkpoint,
      session: target,
    });
    expect(forked.status).toBe(201);
    expect(await forked.json()).toMatchObject({ session: target });
    const status = (await (await ask(`${target}/status`)).json()) as { exists: boolean };
    expect(status.exists).toBe(true);

    const other = await completedSession();
    const again = await ask(`${source.name}/fork`, {
      checkpoint: source.checkpoint,
      session: other.name,
    });
    expect(again.status).toBe(409);
  });

  it("two forks racing into one named session: one is a 201, the other a 409, and the target holds one prefix", async () => {
    const a = await completedSession();
    const b = await completedSession();
    const target = `${a.name}-raced`;
    const [first, second] = await Promise.all([
      ask(`${a.name}/fork`, { checkpoint: a.checkpoint, session: target }),
      ask(`${b.name}/fork`, { checkpoint: b.checkpoint, session: target }),
    ]);
    expect([first.status, second.status].sort()).toEqual([201, 409]);
    const winner = first.status === 201 ? a : b;
    const read = async (name: string) =>
      (await (await ask(`${name}/events?offset=-1`)).json()) as { seq: number; data: unknown }[];
    const copied = await read(target);
    const source = await read(winner.name);
    const upTo = Number(winner.checkpoint);
    expect(copied.slice(0, upTo).map((e) => e.data)).toEqual(
      source.slice(0, upTo).map((e) => e.data),
    );
    expect(copied.length).toBeGreaterThanOrEqual(upTo);
    expect(copied.length).toBeLessThanOrEqual(upTo + 1);
  });
});
