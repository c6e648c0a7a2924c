import { afterEach, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { isTerminal, session } from "./support/session.ts";
import { openSocket, type TestSocket } from "./support/ws-client.ts";

afterEach(() => probe.reset());

const hasTerminal = (s: TestSocket) => () => s.events().some(isTerminal);
const results = (s: TestSocket) => s.frames.filter((f) => f.type === "result");

describe("the session WebSocket", () => {
  it("starts a run by command and streams its events exactly once, in order", async () => {
    const s = session("probe");
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    socket.send({ type: "start", id: "c1", input: { message: "go" } });
    await socket.until(hasTerminal(socket));
    const events = socket.events();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events).toEqual(await s.events());
    expect(events.at(-1)?.kind).toBe("run.completed");
    expect(results(socket)[0]).toMatchObject({ type: "result", id: "c1", ok: true });
    const last = socket.frames.filter((f) => f.type === "events").at(-1);
    expect(last).toMatchObject({ nextOffset: events.at(-1)?.offset, upToDate: true });
    socket.ws.close(1000);
  });

  it("resumes from an offset and answers pings without a command", async () => {
    const s = session("chatty");
    await s.post("runs", { input: { message: "talk" } });
    await s.waitFor(isTerminal);
    const all = await s.events();
    const from = all[4]!.offset;
    const socket = await openSocket(s.fetch, s.url("ws", `offset=${from}`));
    await socket.until(() => socket.events().length === all.length - 5);
    expect(socket.events()).toEqual(all.slice(5));
    socket.send('{"type":"ping"}');
    await socket.until((f) => f.some((x) => x.type === "pong"));
    socket.ws.close(1000);
  });
});

describe("run control over the WebSocket", () => {
  it("interrupts and resumes a run by command", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    socket.send({ type: "start", id: 1, input: { message: "go" } });
    await socket.until(() => socket.events().some((e) => e.kind === "tool.started"));
    socket.send({ type: "interrupt", id: 2, reason: "wait" });
    await socket.until(() => results(socket).length === 2);
    probe.open("slow_echo");
    await socket.until(() => socket.events().some((e) => e.kind === "run.interrupted"));
    socket.send({ type: "resume", id: 3, mode: "continue" });
    await socket.until(() => socket.events().some((e) => e.kind === "run.completed"));
    expect(results(socket).map((r) => [r.id, r.ok])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(socket.events()).toEqual(await s.events());
    socket.ws.close(1000);
  });

  it("checks resume and approve commands before the runtime sees them", async () => {
    const s = session("probe");
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    socket.send({ type: "resume", id: "a", mode: "sideways" });
    socket.send({ type: "approve", id: "b", callId: "c1" });
    socket.send({ type: "resume", id: "c" });
    await socket.until(() => results(socket).length === 3);
    const [a, b, c] = results(socket) as { ok: boolean; error: { code: string; status: number } }[];
    // The same validation, and so the same error, as the HTTP body of the command.
    expect(a).toMatchObject({ ok: false, error: { code: "invalid_request", status: 400 } });
    expect(b).toMatchObject({ ok: false, error: { code: "invalid_request", status: 400 } });
    expect(c?.ok).toBe(false);
    expect(c?.error.status).toBe(409);
    expect(await s.status()).toMatchObject({ status: "idle", offset: "0000000000000000" });
    socket.ws.close(1000);
  });
});

describe("bad input on the WebSocket gets a clear error and changes nothing", () => {
  const frames: [string, string, string][] = [
    ["a frame that is not JSON", '{"type":"start",', "malformed_frame"],
    ["a frame that is not an object", "[1,2]", "malformed_frame"],
    ["an unknown command", '{"type":"explode","id":7}', "unknown_command"],
    [
      "a frame nested too deep",
      `{"type":"state.set","expectedVersion":0,"state":${"[".repeat(10_000)}${"]".repeat(10_000)}}`,
      "json_too_deep",
    ],
    ["a start without a message", '{"type":"start","id":8,"input":{}}', "invalid_request"],
    [
      "a too large frame",
      JSON.stringify({ type: "start", input: { message: "x".repeat(70_000) } }),
      "frame_too_large",
    ],
  ];
  for (const [what, frame, code] of frames) {
    it(what, async () => {
      const s = session("probe");
      const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
      socket.send(frame);
      await socket.until(() => results(socket).length === 1);
      const [answer] = results(socket) as {
        ok: boolean;
        error: { code: string; message: string; status: number };
      }[];
      expect(answer).toMatchObject({ ok: false, error: { code, status: 400 } });
      expect(answer!.error.message.length).toBeGreaterThan(20);
      if (code === "unknown_command") expect(results(socket)[0]?.id).toBe(7);
      expect(await s.status()).toMatchObject({ status: "idle", offset: "0000000000000000" });
      // The socket still works after a bad frame.
      socket.send({ type: "start", id: "ok", input: { message: "go" } });
      await socket.until(() => results(socket).length === 2);
      expect(results(socket)[1]).toMatchObject({ id: "ok", ok: true });
      socket.ws.close(1000);
    });
  }

  it("a command the session refuses is a result with the runtime's error", async () => {
    const s = session("probe");
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    socket.send({ type: "interrupt", id: 1 });
    await socket.until(() => results(socket).length === 1);
    expect(results(socket)[0]).toMatchObject({
      ok: false,
      error: { code: "no_active_run", status: 409 },
    });
    socket.ws.close(1000);
  });

  it("an offset past the tail is an error frame, then a close", async () => {
    const s = session("probe");
    const socket = await openSocket(s.fetch, s.url("ws", "offset=0000000000000009"));
    const { code, reason } = await socket.closed;
    expect(code).toBe(1008);
    expect(reason).toBe("offset_out_of_range");
    expect(socket.frames[0]).toMatchObject({
      type: "error",
      error: { code: "offset_out_of_range", status: 400 },
    });
    expect(socket.frames.slice(1)).toEqual([
      { type: "closing", code: 1008, reason: "offset_out_of_range" },
    ]);
    expect(await s.status()).toMatchObject({ status: "idle", offset: "0000000000000000" });
  });

  it("a GET without an upgrade is a 426", async () => {
    const s = session("probe");
    const response = await s.get("ws");
    expect(response.status).toBe(426);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "upgrade_required",
    );
  });
});
