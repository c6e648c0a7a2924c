import { EventSchemas } from "@ag-ui/core/schemas";
import { describe, expect, it } from "vitest";
import { session } from "./support/session.ts";
import { readSse } from "./support/sse.ts";
import { openSocket } from "./support/ws-client.ts";

/** Uses the `approver` fixture agent: two `wire` calls that each need a human's approval. */
describe("approvals over the WebSocket and AG-UI", () => {
  it("a run that waits is approved by command; AG-UI shows the wait as an interrupt", async () => {
    const s = session("approver");
    const socket = await openSocket(s.fetch, s.url("ws", "offset=-1"));
    socket.send({ type: "start", id: 1, input: { message: "pay" } });
    await socket.until(() => socket.events().some((e) => e.kind === "run.waiting"));
    const calls = socket
      .events()
      .filter((e) => e.kind === "approval.requested")
      .map((e) => (e.data as { callId: string }).callId);
    expect(calls).toHaveLength(2);

    const agui = await readSse(s.fetch, s.url("agui"), (f) => f.data.type === "RUN_FINISHED");
    for (const frame of agui) expect(EventSchemas.safeParse(frame.data).error).toBeUndefined();
    expect(agui.at(-1)?.data).toMatchObject({
      outcome: {
        type: "interrupt",
        interrupts: calls.map((id) => ({ id, toolCallId: id, reason: "approval" })),
      },
    });

    socket.send({
      type: "approve",
      id: 2,
      approvals: [
        { callId: calls[0], approved: true },
        { callId: calls[1], approved: false, reason: "too much" },
      ],
    });
    await socket.until(() => socket.events().some((e) => e.kind === "run.completed"));
    const results = socket.frames.filter((f) => f.type === "result");
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(socket.events()).toEqual(await s.events());
    socket.ws.close(1000);
  });
});
