/**
 * The CLI's route commands against the real quickstart under `wrangler dev`, as a user runs
 * them: status (and a session that does not exist), usage, snapshot, schedules (add, list,
 * cancel), close and sessions (the D1 index); interrupt, resume and abort against a run whose
 * model the test holds (the quickstart on the OpenAI fake).
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeProvider } from "../support/provider-fakes/fake-server.ts";
import { startOpenAIFake } from "../support/provider-fakes/openai-fake.ts";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import {
  getJson,
  isTerminal,
  runCli,
  startQuickstart,
  startRun,
  tempState,
  waitForLedger,
} from "./e2e-support.ts";

describe("the CLI covers every route", () => {
  let dev: WranglerDev | undefined;
  const state = tempState("e2e-cli");
  afterAll(async () => {
    await dev?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it("status, usage, snapshot, schedules, close and sessions against the quickstart", async () => {
    dev = await startQuickstart(state);
    const url = ["--url", dev.baseUrl];
    const chat = await runCli(["chat", "What is 2+3?", "--session", "cli-1", ...url]);
    expect(chat.code, chat.stderr).toBe(0);

    const status = await runCli(["status", "assistant/cli-1", ...url]);
    expect(status.stdout).toMatch(/^assistant\/cli-1: completed \(run run_\w+\), offset \d{16}\n$/);

    const missing = await runCli(["status", "assistant/no-such-session", ...url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("assistant/no-such-session: no such session");

    for (const command of ["usage", "messages", "snapshot"]) {
      const none = await runCli([command, "assistant/no-such-session", ...url]);
      expect(none.code, command).toBe(1);
      expect(none.stderr, command).toContain("assistant/no-such-session: no such session");
    }

    const usage = await runCli(["usage", "assistant/cli-1", "--json", ...url]);
    expect(usage.code, usage.stderr).toBe(0);
    expect(JSON.parse(usage.stdout)).toMatchObject({ rollup: { modelCalls: 2 } });
    const usageText = await runCli(["usage", "assistant/cli-1", ...url]);
    expect(usageText.stdout).toMatch(/^model \S+: 2 calls, \d+ in \(0 cached\)/);
    expect(usageText.stdout).toContain("tool calculator: 1 call, 0 failed\n");
    expect(usageText.stdout).toMatch(/total with sub-agents: \d+ in, \d+ out, 2 model calls\n$/);

    const snapshot = await runCli(["snapshot", "assistant/cli-1", ...url]);
    expect(snapshot.stdout).toMatch(
      /^assistant\/cli-1: completed, \d+ messages, state version \d+, offset \d{16}\n$/,
    );

    const added = await runCli([
      "schedules",
      "assistant/cli-1",
      "--add",
      "reminder",
      "--cron",
      "0 9 * * MON-FRI",
      "--key",
      "standup",
      "--payload",
      '{"message":"show my notes"}',
      ...url,
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('"key":"standup"');
    const listed = await runCli(["schedules", "assistant/cli-1", ...url]);
    expect(listed.stdout).toMatch(
      /^standup {2}reminder {2}cron 0 9 \* \* MON-FRI \(UTC\), next \d{4}-\d\d-\d\dT09:00:00\.000Z {2}\{"message":"show my notes"\}\n/,
    );
    expect(listed.stdout).toMatch(/trigger kinds: .*reminder/);
    const cancelled = await runCli(["schedules", "assistant/cli-1", "--cancel", "standup", ...url]);
    expect(cancelled.stdout).toBe("cancelled standup\n");
    const unknown = await runCli([
      "schedules",
      "assistant/cli-1",
      "--add",
      "nope",
      "--delay",
      "5",
      ...url,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown_trigger_kind");

    const badPayload = await runCli([
      "schedules",
      "assistant/cli-1",
      "--add",
      "reminder",
      "--delay",
      "5",
      ...url,
    ]);
    expect(badPayload.stderr).toMatch(/the payload for "reminder" is invalid: message: [^\n]*\n/);

    const closed = await runCli(["close", "assistant/cli-1", ...url]);
    expect(closed.stdout).toBe("assistant/cli-1: closed\n");
    const afterClose = await runCli(["status", "assistant/cli-1", ...url]);
    expect(afterClose.stdout).toMatch(/: completed \(run run_\w+\), closed, offset/);

    // The index is fed after the run, off its critical path: poll until it lists the session.
    let sessions = "";
    for (let i = 0; i < 40 && !sessions.includes("assistant/cli-1"); i++) {
      sessions = (await runCli(["sessions", "--agent", "assistant", ...url])).stdout;
      if (!sessions.includes("assistant/cli-1")) await new Promise((r) => setTimeout(r, 500));
    }
    expect(sessions).toContain("assistant/cli-1");
  });

  it("messages, checkpoints and retry", async () => {
    if (dev === undefined) throw new Error("the first test starts the server");
    const url = ["--url", dev.baseUrl];
    const base = dev.baseUrl;

    const messages = await runCli(["messages", "assistant/cli-1", ...url]);
    expect(messages.stdout).toMatch(/^user: What is 2\+3\?\n/);
    expect(messages.stdout).toContain("2+3 = 5");
    const checkpoints = await runCli(["checkpoints", "assistant/cli-1", ...url]);
    expect(checkpoints.stdout).toMatch(/run start/);
    expect(checkpoints.stdout).toMatch(/step 1/);

    // The demo model fails "simulate an outage" once per message and server process.
    const failed = await runCli(["chat", "simulate an outage", "--session", "cli-4", ...url]);
    expect(failed.code).toBe(1);
    const retried = await runCli(["retry", "assistant/cli-4", ...url]);
    expect(retried.code, retried.stderr).toBe(0);
    const status = await getJson<{ status: string }>(`${base}/agents/assistant/cli-4/status`);
    expect(status.status).toBe("completed");
  });

  it("the quickstart's app event and projection, and a reminder on @daily", async () => {
    if (dev === undefined) throw new Error("the first test starts the server");
    const url = ["--url", dev.baseUrl];
    const base = dev.baseUrl;
    const chat = await runCli(["chat", "remember to buy milk", "--session", "cli-notes", ...url]);
    expect(chat.code, chat.stderr).toBe(0);
    const events = await getJson<{ kind: string; data: unknown }[]>(
      `${base}/agents/assistant/cli-notes/events?offset=-1`,
    );
    expect(events.filter((e) => e.kind === "app.note.added")).toEqual([
      expect.objectContaining({ data: { text: "buy milk" } }),
    ]);
    const stats = await getJson<{ count: number; last: string | null }>(
      `${base}/agents/assistant/cli-notes/note-stats`,
    );
    expect(stats).toEqual({ count: 1, last: "buy milk" });

    const listed = await runCli(["projections", "assistant/cli-notes", ...url]);
    expect(listed.stdout).toBe("note_stats  v1  current  rows of v1\n");
    const rebuilt = await runCli([
      "projections",
      "assistant/cli-notes",
      "--rebuild",
      "note_stats",
      ...url,
    ]);
    expect(rebuilt.stdout).toBe("rebuilt note_stats at version 1: current\n");
    expect(await getJson(`${base}/agents/assistant/cli-notes/note-stats`)).toEqual(stats);

    const daily = await runCli([
      "schedules",
      "assistant/cli-notes",
      "--add",
      "reminder",
      "--cron",
      "@daily",
      "--key",
      "daily",
      "--payload",
      '{"message":"show my notes"}',
      ...url,
    ]);
    expect(daily.code, daily.stderr).toBe(0);
    const schedules = await runCli(["schedules", "assistant/cli-notes", ...url]);
    expect(schedules.stdout).toMatch(
      /^daily {2}reminder {2}cron @daily \(UTC\), next \d{4}-\d\d-\d\dT00:00:00\.000Z/,
    );
  });
});

// A run the CLI interrupts or aborts must still run when the command arrives: its model is the
// OpenAI fake, which sends the start of an answer and then holds the stream (`stall`) until
// the interrupt or abort cuts the call. With the scripted model's delays the run could end
// first on a loaded machine, and `interrupt` then answered 409 no_active_run.
describe("interrupt, resume and abort, on a model the test holds", () => {
  let fake: FakeProvider;
  let held: WranglerDev | undefined;
  const heldState = tempState("e2e-cli-held");
  beforeAll(async () => {
    fake = await startOpenAIFake();
    held = await startQuickstart(heldState, {
      OPENAI_API_KEY: "test",
      OPENAI_BASE_URL: `${fake.baseUrl}/v1`,
    });
  });
  afterAll(async () => {
    await held?.stop();
    await fake?.close();
    rmSync(heldState, { recursive: true, force: true });
  });

  /** Starts a run whose first model call the fake holds, once that call has reached it. */
  async function startHeld(base: string, session: string, message: string): Promise<void> {
    fake.enqueue({ type: "stall" });
    const before = fake.requests.length;
    await startRun(base, session, message);
    for (let i = 0; i < 600 && fake.requests.length === before; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(fake.requests.length, "the run's model call reached the fake").toBe(before + 1);
  }

  it("interrupt, resume and abort", async () => {
    if (held === undefined) throw new Error("beforeAll starts the server");
    const url = ["--url", held.baseUrl];
    const base = held.baseUrl;

    await startHeld(base, "cli-2", "What is (2+3)*4?");
    const interrupted = await runCli(["interrupt", "assistant/cli-2", "--reason", "test", ...url]);
    expect(interrupted.code, interrupted.stderr).toBe(0);
    expect(interrupted.stdout).toMatch(/^run run_\w+: /);
    const ended = await waitForLedger(base, "cli-2", (events) => events.some(isTerminal));
    expect(ended.filter(isTerminal).map((e) => e.kind)).toEqual(["run.interrupted"]);
    const resumed = await runCli(["resume", "assistant/cli-2", ...url]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^run run_\w+: running\n/);
    const resumedStatus = await getJson<{ status: string }>(
      `${base}/agents/assistant/cli-2/status`,
    );
    expect(resumedStatus.status).toBe("completed");
    // The interrupt cut the model's first call, mid-answer once the fake's first events got
    // through: a cut answer is no tool round, so the resumed run calls the calculator and
    // answers from its result.
    const resumedMessages = await runCli(["messages", "assistant/cli-2", ...url]);
    expect(resumedMessages.stdout).toContain("(2+3)*4 = 20.");

    await startHeld(base, "cli-3", "What is 6*7?");
    const aborted = await runCli(["abort", "assistant/cli-3", ...url]);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(aborted.stdout).toMatch(/^run run_\w+: aborted\n$/);
    const notResumable = await runCli(["resume", "assistant/cli-3", "--no-follow", ...url]);
    expect(notResumable.code).toBe(1);
    expect(notResumable.stderr).toContain('start a new run with `durable-agents chat "<message>"');
    expect(notResumable.stderr).not.toContain("POST .../");
    const again = await runCli(["abort", "assistant/cli-3", ...url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no_active_run");
  });
});
