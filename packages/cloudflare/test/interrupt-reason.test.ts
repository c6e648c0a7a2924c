import { afterEach, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { session } from "./support/session.ts";
import { readSse } from "./support/sse.ts";

afterEach(() => probe.reset());

describe("POST interrupt's reason reaches every view of the run", () => {
  it("run.interrupted, the UI stream's abort chunk and AG-UI's interrupt say the caller's reason", async () => {
    const s = session("chatty");
    // Hold the run just before its model call, so the interrupt lands on a running run.
    probe.pauseAt("before-model");
    await s.post("runs", { input: { message: "hello" } });
    const until = Date.now() + 10_000;
    while (probe.executions("fault:before-model") === 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    expect((await s.post("interrupt", { reason: "user pressed stop" })).status).toBe(202);
    probe.open("before-model");
    const interrupted = await s.waitFor((e) => e.kind === "run.interrupted", 20_000);
    expect(interrupted.data).toEqual({ reason: "user pressed stop" });

    const chunks = await readSse(
      s.fetch,
      s.url("ui-stream", "offset=-1"),
      (f) => (f.data as { type?: string }).type === "abort",
    );
    expect(chunks.at(-1)?.data).toMatchObject({ type: "abort", reason: "user pressed stop" });

    const agui = await readSse(
      s.fetch,
      s.url("agui", "offset=-1"),
      (f) => (f.data as { type?: string }).type === "RUN_FINISHED",
    );
    expect(JSON.stringify(agui.at(-1)?.data)).toContain("user pressed stop");
    expect(JSON.stringify(agui.at(-1)?.data)).not.toContain("interrupted by request");
  });
});
