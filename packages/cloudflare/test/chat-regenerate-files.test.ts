import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { agentRuns } from "../src/index.ts";
import { probe } from "./fixture/probe.ts";
import { history, tab } from "./support/chat-tab.ts";
import { session } from "./support/session.ts";

afterEach(() => probe.reset());

/** A valid base64 PNG data URL of about `kib` KiB of characters (each message's files fit 768 KiB). */
function bigPng(kib: number): string {
  return `data:image/png;base64,${"A".repeat(kib * 1024)}`;
}

/**
 * A chat regenerate of a run resumed with a message hands the run's earlier user messages back
 * with their files (chat-turn.ts earlierInTurn), in the new run's one `run.started`. Each
 * message's files fit its own event; together they can pass the ledger's per-event limit.
 */
describe("a chat regenerate of a turn whose messages carry files", () => {
  it("that together pass the ledger's per-event limit is a 413 that says so and what to do, and loses nothing", async () => {
    // Each user message's files are within MAX_USER_FILE_CHARS (768 KiB) and each event was
    // accepted on its own (run.started, run.resumed). The regenerate hands every earlier user
    // message back with its files into ONE run.started, which passes the ledger's 1 MiB event
    // limit. The client sent no such body: the refusal says what did, and what to do instead.
    const s = session("probe");
    const a = await tab(s);
    probe.close("slow_echo");
    const first = a.sendMessage({
      text: "go",
      files: [{ type: "file", mediaType: "image/png", url: bigPng(600) }],
    });
    await s.waitFor((e) => e.kind === "tool.started");
    await s.post("interrupt", {});
    probe.open("slow_echo");
    await first;
    await s.waitFor((e) => e.kind === "run.interrupted");
    // Over HTTP a resume body is 64 KiB at most; a store run handle (or any in-process door)
    // has no body limit, and the resume's message with its file fits its own event.
    await agentRuns(env)
      .getHandle("probe", s.session)
      .resume({
        mode: "with_message",
        messages: [
          {
            role: "user",
            content: "and this picture",
            files: [{ type: "file", data: bigPng(600), mediaType: "image/png" }],
          },
        ],
        message: "what do both show?",
      });
    await s.waitFor((e) => e.kind === "run.completed");

    const b = await tab(s, await history(s));
    const before = await s.events();
    await b.regenerate();
    const refused = JSON.parse(b.error?.message ?? "{}") as {
      error?: { code: string; message: string; details?: { latestRunId?: string } };
    };
    const runId = before.find((e) => e.kind === "run.started")?.runId;
    expect(refused.error).toMatchObject({
      code: "payload_too_large",
      details: { limitBytes: 1048576, latestRunId: runId },
    });
    expect(refused.error?.message).toContain(
      `user messages of this turn (run ${runId}) with their files`,
    );
    expect(refused.error?.message).toContain("Send a new message instead");
    expect(refused.error?.message).toContain(`GET .../checkpoints?runId=${runId}`);
    expect(await s.events()).toEqual(before);
    // What it says to do works: a new message after the answer starts a run.
    const c = await tab(s, await history(s));
    await c.sendMessage({ text: "and now?" });
    expect(c.error).toBeUndefined();
    expect((await s.events()).filter((e) => e.kind === "run.started")).toHaveLength(2);
  });
});
