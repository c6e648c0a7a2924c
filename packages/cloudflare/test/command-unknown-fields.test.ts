import { describe, expect, it } from "vitest";
import { session } from "./support/session.ts";
import { openSocket } from "./support/ws-client.ts";

interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: { path: string }[] } };
}

/**
 * A command body's misspelled field is dropped silently (202/201) and the command
 * runs without it: `{"mesage":...}` resumes with mode continue and loses the message,
 * `{"sesion":...}` forks into a server-named session, `{"reazon":...}` aborts without the
 * reason. docs/api.md: "POST resume and POST retry read each field by its mode and drop none";
 * "its input (400 invalid_request naming every bad field)"; "A 400 changes nothing."
 */
describe("a command body's unknown field is a 400 that names it", () => {
  it("resume with a misspelled message is refused and changes nothing", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    expect((await s.post("interrupt", {})).status).toBe(202);
    const before = await s.events();
    const response = await s.post("resume", { mesage: "pay only the first" });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.details?.issues?.map((i) => i.path)).toContain("mesage");
    expect(await s.events()).toEqual(before);
  });

  it("fork with a misspelled session is refused, not forked into a server-named session", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const response = await s.post("fork", { checkpoint: "1", sesion: "my-fork" });
    expect(response.status).toBe(400);
  });

  it("abort with a misspelled reason is refused and the run still waits", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const before = await s.events();
    expect((await s.post("abort", { reazon: "changed my mind" })).status).toBe(400);
    expect(await s.events()).toEqual(before);
  });

  it("resume with mode with_message and no message is a 400 naming message, whatever the run's state", async () => {
    // docs/api.md "Session commands": input (400 invalid_request naming every bad field) is
    // checked before the runtime. Seen: 409 run_not_resumable on an ended run, and on an
    // interrupted one a 400 without details.issues.
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    expect((await s.post("abort", {})).status).toBe(202);
    const response = await s.post("resume", { mode: "with_message" });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.details?.issues?.map((i) => i.path)).toContain("message");
  });

  it("names each unknown field at its path and says what the body takes", async () => {
    const s = session("approver");
    const response = await s.post("runs", {
      input: { message: "pay", mesage: "x" },
      modelOptionz: {},
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.details?.issues?.map((i) => i.path).sort()).toEqual([
      "input.mesage",
      "modelOptionz",
    ]);
    expect(body.error.message).toContain('unknown field "modelOptionz"; a start takes input,');
    expect(await s.events()).toEqual([]);
  });

  it("interrupt, retry and a state write with an unknown field are refused", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const before = await s.events();
    const refused = [
      await s.post("interrupt", { reasn: "lunch" }),
      await s.post("retry", { mod: "from_start" }),
      await s.fetch(s.url("state"), {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ state: {}, expectedVersion: 0, expectedVerison: 0 }),
      }),
    ];
    expect(refused.map((r) => r.status)).toEqual([400, 400, 400]);
    expect(await s.events()).toEqual(before);
  });

  it("a WebSocket command frame with an unknown field is refused the same way", async () => {
    const s = session("approver");
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    socket.send({ type: "start", id: 1, input: { message: "pay" }, metadatta: {} });
    await socket.until((frames) => frames.some((f) => f.type === "result" && f.id === 1));
    const result = socket.frames.find((f) => f.type === "result" && f.id === 1);
    expect(result).toMatchObject({
      ok: false,
      error: { code: "invalid_request", status: 400, details: { issues: [{ path: "metadatta" }] } },
    });
    expect(await s.events()).toEqual([]);
    socket.ws.close(1000);
  });

  it("a cross-field rule names its field: approvals beside a message, a checkpoint without its mode", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const paths = async (body: unknown) => {
      const response = await s.post("resume", body);
      expect(response.status).toBe(400);
      return ((await response.json()) as ErrorBody).error.details?.issues?.map((i) => i.path);
    };
    expect(
      await paths({ message: "hi", approvals: [{ callId: "call_0_0", approved: true }] }),
    ).toEqual(["approvals"]);
    expect(await paths({ checkpoint: "1" })).toEqual(["checkpoint"]);
    expect(await paths({ mode: "from_checkpoint" })).toEqual(["checkpoint"]);
    expect(await paths({ mode: "continue", message: "hi" })).toEqual(["message"]);
  });

  it("a fork into its own session is a 400 naming session", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    const response = await s.post("fork", { checkpoint: "1", session: s.session });
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.details?.issues?.map((i) => i.path)).toEqual(["session"]);
  });

  it("DELETE schedules reads key from the query beside the door's ?token=", async () => {
    const s = session("probe");
    expect(
      (await s.post("schedules", { kind: "kick", key: "k1", delayMs: 3_600_000 })).status,
    ).toBe(201);
    const response = await s.fetch(`${s.url("schedules", "key=k1&token=ignored")}`, {
      method: "DELETE",
    });
    expect(response.status).toBe(200);
  });
});
