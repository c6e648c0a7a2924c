import { describe, expect, it } from "vitest";
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

    const target = `${s.session}-f`;
    const response = await s.post("fork", { checkpoint: afterStep1.id, session: target });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ session: target, events: afterStep1.seq });
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

  it("a fork at an unknown checkpoint is a 404 and creates nothing", async () => {
    const s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const target = `${s.session}-nope`;
    const response = await s.post("fork", { checkpoint: "9999", session: target });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "unknown_checkpoint",
    );
    expect(await session("probe", target).events()).toEqual([]);
  });

  it("a fork into a session that already exists is a 409", async () => {
    const s = session("probe");
    const other = session("probe");
    for (const x of [s, other]) {
      await x.post("runs", { input: { message: "go" } });
      await x.waitFor(isTerminal);
    }
    const response = await s.post("fork", { checkpoint: "1", session: other.session });
    expect(response.status).toBe(409);
  });
});
