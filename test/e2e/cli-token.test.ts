/**
 * The CLI against the quickstart with AUTH_SECRET set, as a deployed Worker runs: every
 * request needs a session token. Without one the CLI says how to pass it (one line, exit
 * 1); `--token` and `DURABLE_AGENTS_TOKEN` (the flag wins) make chat and tail work; a token
 * without the scope a command needs names that scope.
 */
import { rmSync } from "node:fs";
import { mintSessionToken } from "@durable-agents/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import { runCli, startQuickstart, tempState } from "./e2e-support.ts";

const SECRET = "an-auth-secret-of-at-least-32-characters";
let dev: WranglerDev | undefined;
const state = tempState("e2e-cli-token");

beforeAll(async () => {
  dev = await startQuickstart(state, { AUTH_SECRET: SECRET });
});

afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

function url(): string[] {
  if (dev === undefined) throw new Error("the quickstart did not start");
  return ["--url", dev.baseUrl];
}

/** The CLI's stderr as the lines it printed. */
function lines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line !== "");
}

describe("the CLI against a server with AUTH_SECRET set", () => {
  it("without a token: one line that says to pass --token or set DURABLE_AGENTS_TOKEN, exit 1", async () => {
    const chat = await runCli(["chat", "What is 2+3?", "--session", "tok-none", ...url()]);
    expect(chat.code).toBe(1);
    expect(chat.stdout).toBe("");
    expect(lines(chat.stderr)).toEqual([
      expect.stringMatching(
        /^error: the server needs a token .*--token <token> or set DURABLE_AGENTS_TOKEN.*mintSessionToken.*\(unauthorized, HTTP 401\)$/,
      ),
    ]);
    const status = await runCli(["status", "assistant/tok-none", ...url()]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain("--token <token> or set DURABLE_AGENTS_TOKEN");
    // The index route names its own token: an index token, not a session one.
    const sessions = await runCli(["sessions", ...url()]);
    expect(sessions.code).toBe(1);
    expect(sessions.stderr).toMatch(
      /--token <token> or set DURABLE_AGENTS_TOKEN; mint one with mintIndexToken/,
    );
  });

  it("--token: chat streams the answer; status, close and tail over SSE and WebSocket work", async () => {
    const token = await mintSessionToken(SECRET, { agent: "assistant", session: "tok-flag" });
    const chat = await runCli([
      "chat",
      "What is 2+3?",
      "--session",
      "tok-flag",
      "--token",
      token,
      ...url(),
    ]);
    expect(chat.stderr).toBe("");
    expect(chat.code).toBe(0);
    expect(chat.stdout).toContain("session: tok-flag\n");
    const status = await runCli(["status", "assistant/tok-flag", "--token", token, ...url()]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^assistant\/tok-flag: completed /);
    // The live reads carry it too: SSE in the header, the WebSocket in ?token=. A closed
    // session's stream ends, so each tail prints the ledger and exits by itself.
    const close = await runCli(["close", "assistant/tok-flag", "--token", token, ...url()]);
    expect(close.code, close.stderr).toBe(0);
    for (const transport of ["sse", "ws"]) {
      const tail = await runCli([
        "tail",
        "assistant/tok-flag",
        "--transport",
        transport,
        "--token",
        token,
        ...url(),
      ]);
      expect(tail.code, `${transport}: ${tail.stderr}`).toBe(0);
      expect(tail.stdout, transport).toContain("run.completed");
      expect(tail.stderr, transport).toContain("stream closed");
    }
  });

  it("DURABLE_AGENTS_TOKEN works alone, and --token wins over it", async () => {
    const token = await mintSessionToken(SECRET, { agent: "assistant", session: "tok-env" });
    const chat = await runCli(["chat", "What is 2+3?", "--session", "tok-env", ...url()], 60_000, {
      DURABLE_AGENTS_TOKEN: token,
    });
    expect(chat.stderr).toBe("");
    expect(chat.code).toBe(0);
    expect(chat.stdout).toContain("session: tok-env\n");

    // A token for another session in the environment, the right one in --token: the flag's is sent.
    const other = await mintSessionToken(SECRET, { agent: "assistant", session: "elsewhere" });
    const flagWins = await runCli(
      ["status", "assistant/tok-env", "--token", token, ...url()],
      60_000,
      { DURABLE_AGENTS_TOKEN: other },
    );
    expect(flagWins.code, flagWins.stderr).toBe(0);
    const envOnly = await runCli(["status", "assistant/tok-env", ...url()], 60_000, {
      DURABLE_AGENTS_TOKEN: other,
    });
    expect(envOnly.code).toBe(1);
    expect(lines(envOnly.stderr)).toEqual([
      expect.stringMatching(
        /"assistant\/elsewhere".*--token <token>.*\(wrong_session, HTTP 403\)$/,
      ),
    ]);
  });

  it("a token without the scope a command needs: the scope is named, exit 1", async () => {
    const readOnly = await mintSessionToken(SECRET, {
      agent: "assistant",
      session: "tok-scope",
      scope: ["read"],
    });
    const chat = await runCli([
      "chat",
      "What is 2+3?",
      "--session",
      "tok-scope",
      "--token",
      readOnly,
      ...url(),
    ]);
    expect(chat.code).toBe(1);
    expect(lines(chat.stderr)).toEqual([
      expect.stringMatching(
        /^error: this request needs the "write" scope; the token has: read; .*"write" scope.*--token <token>.*\(missing_scope, HTTP 403\)$/,
      ),
    ]);
  });

  it("a token signed with another secret is refused with advice, not a stack trace", async () => {
    const forged = await mintSessionToken("another-secret-of-at-least-32-characters!", {
      agent: "assistant",
      session: "tok-forged",
    });
    const status = await runCli(["status", "assistant/tok-forged", "--token", forged, ...url()]);
    expect(status.code).toBe(1);
    expect(lines(status.stderr)).toEqual([
      expect.stringMatching(
        /not signed with this server's AUTH_SECRET.*\(invalid_token, HTTP 401\)$/,
      ),
    ]);
  });
});
