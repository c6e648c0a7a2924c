import { describe, expect, it } from "vitest";
import { session } from "./support/session.ts";

interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * Review findings: resume and retry bodies whose fields contradict their mode were taken with
 * a field dropped silently (202): a message beside `continue` (or with no mode at all), a
 * checkpoint beside a mode that reads none. Bad input is a 400 that changes nothing (G5).
 */
describe("resume and retry bodies say one thing", () => {
  it("a message with mode continue, or a checkpoint without from_checkpoint, is a 400 and changes nothing", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    expect((await s.post("interrupt", {})).status).toBe(202);
    const before = await s.events();
    for (const body of [
      { mode: "continue", message: "pay only the first" },
      { checkpoint: "1" },
      { mode: "with_message", message: "pay only the first", checkpoint: "1" },
    ]) {
      const response = await s.post("resume", body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorBody).error.code).toBe("invalid_request");
    }
    expect(await s.events()).toEqual(before);
  });

  it("a message without a mode resumes with that message, as messages without a mode do", async () => {
    const s = session("approver");
    await s.post("runs", { input: { message: "pay" } });
    await s.waitFor((e) => e.kind === "run.waiting");
    expect((await s.post("interrupt", {})).status).toBe(202);
    expect((await s.post("resume", { message: "pay only the first" })).status).toBe(202);
    const resumed = (await s.events()).findLast((e) => e.kind === "run.resumed");
    expect(resumed?.data).toMatchObject({ mode: "with_message", message: "pay only the first" });
  });

  it("a retry from the start with a checkpoint is a 400 and changes nothing", async () => {
    const s = session("verbose");
    await s.post("runs", { input: { message: "hi" } });
    await s.waitFor((e) => e.kind === "run.failed");
    const before = await s.events();
    const response = await s.post("retry", { mode: "from_start", checkpoint: "1" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.code).toBe("invalid_request");
    expect(await s.events()).toEqual(before);
  });
});
