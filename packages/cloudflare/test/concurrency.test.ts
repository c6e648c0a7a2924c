import { afterEach, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { isTerminal, session } from "./support/session.ts";

afterEach(() => probe.reset());

describe("G6: one active run per session", () => {
  it("50 concurrent starts on one session give exactly one run; the others get 409 naming it", async () => {
    const s = session("probe");
    probe.close("slow_echo"); // the run stays active until every start has been answered
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => s.post("runs", { input: { message: `start ${i}` } })),
    );
    const accepted = responses.filter((r) => r.status === 202);
    const refused = responses.filter((r) => r.status === 409);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(49);
    const { runId } = (await accepted[0]!.json()) as { runId: string };
    for (const response of refused) {
      const body = (await response.json()) as {
        error: { code: string; details: { runId: string } };
      };
      expect(body.error).toMatchObject({ code: "run_active", details: { runId } });
    }
    probe.open("slow_echo");
    await s.waitFor(isTerminal);
    const starts = (await s.events()).filter((e) => e.kind === "run.started");
    expect(starts.map((e) => e.runId)).toEqual([runId]);
  });
});
