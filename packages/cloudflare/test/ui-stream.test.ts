import { afterEach, describe, expect, it } from "vitest";
import {
  chatRequest,
  rebuildMessage,
  uiChunks,
  validateChunk,
} from "../../../test/support/ui-message.ts";
import { probe } from "./fixture/probe.ts";
import { isTerminal, session } from "./support/session.ts";
import { readSse } from "./support/sse.ts";

afterEach(() => probe.reset());

const post = { method: "POST", headers: { "content-type": "application/json" } };
const never = () => false;

describe("the AI SDK UI message stream", () => {
  it("POST starts a run the way useChat sends it and streams valid chunks to [DONE]", async () => {
    const s = session("probe");
    const response = await s.fetch(s.url("ui-stream"), {
      ...post,
      body: JSON.stringify(chatRequest("go")),
    });
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-vercel-ai-ui-message-stream": "v1",
      "x-accel-buffering": "no",
    });
    const text = await response.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const chunks = uiChunks(text);
    for (const chunk of chunks) await validateChunk(chunk);
    expect(chunks[0]?.type).toBe("start");
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    const message = await rebuildMessage(chunks);
    const texts = message?.parts.filter((p) => p.type === "text").map((p) => p.text);
    expect(texts).toEqual(["Working on it.", "Once more.", "All done: one, two."]);
    expect(message?.parts.filter((p) => p.type.startsWith("tool-"))).toHaveLength(3);
  });

  it("GET answers 204 when no run is active, and replays the active run from its start", async () => {
    const s = session("probe");
    expect((await s.get("ui-stream")).status).toBe(204);
    probe.close("slow_echo");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor((e) => e.kind === "tool.started");
    const replay = readSse(s.fetch, s.url("ui-stream"), never);
    await new Promise((r) => setTimeout(r, 100));
    probe.open("slow_echo");
    const chunks = (await replay).map((f) => f.data);
    for (const chunk of chunks) await validateChunk(chunk);
    expect(chunks[0]).toMatchObject({ type: "start" });
    expect(chunks.at(-1)).toMatchObject({ type: "finish" });
    const message = await rebuildMessage(chunks);
    expect(message?.parts.filter((p) => p.type === "text")).toHaveLength(3);
    await s.waitFor(isTerminal);
    expect((await s.get("ui-stream")).status).toBe(204);
  });

  it("the stop endpoint stops the generation on the server; a client disconnect does not", async () => {
    const s = session("probe");
    probe.close("slow_echo");
    const first = await readSse(
      s.fetch,
      s.url("ui-stream"),
      (f) => f.data.type === "tool-input-available",
      post.headers,
      { ...post, body: JSON.stringify(chatRequest("go")) },
    );
    expect(first.length).toBeGreaterThan(2);
    // The client went away (readSse cancelled the body): the run goes on.
    expect((await s.status()).status).toBe("running");
    const tail = readSse(s.fetch, s.url("ui-stream", `offset=${first.at(-1)!.id}`), never);
    const stop = await s.fetch(s.url("stop"), { method: "POST" });
    expect(stop.status).toBe(202);
    probe.open("slow_echo");
    const rest = (await tail).map((f) => f.data);
    expect(rest.at(-1)).toMatchObject({ type: "abort" });
    const done = await s.waitFor(isTerminal);
    expect(done.kind).toBe("run.interrupted");
  });

  it("a chat request that fails validation is a 400 and starts nothing", async () => {
    const s = session("probe");
    for (const body of [
      { messages: [] },
      { messages: [{ id: "a", role: "assistant", parts: [{ type: "text", text: "hi" }] }] },
      { messages: [{ id: "u", role: "user", parts: [] }] },
    ]) {
      const response = await s.fetch(s.url("ui-stream"), { ...post, body: JSON.stringify(body) });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        "invalid_request",
      );
    }
    const past = await s.get("ui-stream", "offset=0000000000000005");
    expect(past.status).toBe(400);
    expect(((await past.json()) as { error: { code: string } }).error.code).toBe(
      "offset_out_of_range",
    );
    expect(await s.status()).toMatchObject({ status: "idle", offset: "0000000000000000" });
  });
});
