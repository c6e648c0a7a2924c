/**
 * `state()`, `setState()` and `durable-agents state` against the real core session
 * handler, in-process (as core-contract.test.ts does for runs and reads).
 */
import {
  DEFAULT_LIVE_READ,
  defineAgent,
  errorResponse,
  handleSessionRequest,
  scriptedModel,
  TRUSTED_CALLER,
} from "@durable-agents/core";
import { createTestSession, type TestSession } from "@durable-agents/core/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as z from "zod";
import { main } from "../src/cli/main.ts";
import { createClient, DurableAgentsClientError, StateVersionConflictError } from "../src/index.ts";

const agent = defineAgent({
  name: "assistant",
  system: "You keep a todo list.",
  model: scriptedModel(),
  initialState: { todos: [] },
  stateSchema: z.object({ todos: z.array(z.string()) }),
});

function serve(s: TestSession): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const action = new URL(request.url).pathname.split("/")[4] ?? "";
    try {
      return await handleSessionRequest(request, action, {
        runtime: s.runtime,
        sql: s.sql,
        clock: s.clock,
        live: DEFAULT_LIVE_READ,
        caller: TRUSTED_CALLER,
      });
    } catch (error) {
      return errorResponse(error, (cause) => console.error(cause));
    }
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("session.state() and setState()", () => {
  it("reads and writes with compare-and-set; a conflict is a typed error with currentVersion", async () => {
    const s = createTestSession(agent);
    const session = createClient({ fetch: serve(s) }).session("assistant", "s1");
    expect(await session.state<{ todos: string[] }>()).toEqual({
      state: { todos: [] },
      version: 0,
      offset: "0000000000000000",
    });
    expect(await session.setState({ todos: ["milk"] }, { expectedVersion: 0 })).toEqual({
      version: 1,
      offset: "0000000000000001",
    });
    const conflict = await session
      .setState({ todos: ["eggs"] }, { expectedVersion: 0 })
      .catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(StateVersionConflictError);
    expect(conflict).toMatchObject({ code: "version_conflict", status: 409, currentVersion: 1 });
    expect((await session.state()).state).toEqual({ todos: ["milk"] });
  });

  it("a read-modify-write loop converges when another writer got in first", async () => {
    const s = createTestSession(agent);
    const session = createClient({ fetch: serve(s) }).session("assistant", "s1");
    const other = createClient({ fetch: serve(s) }).session("assistant", "s1");
    let read = await session.state<{ todos: string[] }>();
    await other.setState({ todos: ["from the other tab"] }, { expectedVersion: read.version });
    for (let attempt = 0; ; attempt++) {
      try {
        await session.setState(
          { todos: [...read.state.todos, "mine"] },
          { expectedVersion: read.version },
        );
        break;
      } catch (error) {
        if (!(error instanceof StateVersionConflictError) || attempt > 3) throw error;
        read = await session.state<{ todos: string[] }>();
      }
    }
    expect(await session.state()).toMatchObject({
      state: { todos: ["from the other tab", "mine"] },
      version: 2,
    });
  });

  it("a state the agent's schema refuses is a 400, not a conflict, and writes nothing", async () => {
    const s = createTestSession(agent);
    const session = createClient({ fetch: serve(s) }).session("assistant", "s1");
    const error = await session
      .setState({ todos: [1] }, { expectedVersion: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DurableAgentsClientError);
    expect(error).not.toBeInstanceOf(StateVersionConflictError);
    expect(error).toMatchObject({ code: "invalid_request", status: 400 });
    expect((error as Error).message).toContain("todos");
    expect(s.runtime.ledger.tail).toBe(0);
  });
});

describe("durable-agents state", () => {
  async function cli(s: TestSession, args: string[]) {
    vi.stubGlobal("fetch", serve(s));
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["state", "assistant/s1", ...args], {
      env: {},
      color: false,
      signal: new AbortController().signal,
      out: (text) => void out.push(text),
      err: (text) => void err.push(text),
    });
    return { code, stdout: out.join(""), stderr: err.join("") };
  }

  it("prints the state, sets it with --expected-version, and explains a conflict", async () => {
    const s = createTestSession(agent);
    expect(await cli(s, [])).toEqual({
      code: 0,
      stdout: 'version 0, offset 0000000000000000\n{\n  "todos": []\n}\n',
      stderr: "",
    });
    expect(await cli(s, ["--set", '{"todos":["milk"]}', "--expected-version", "0"])).toEqual({
      code: 0,
      stdout: "state is now version 1\n",
      stderr: "",
    });
    const stale = await cli(s, ["--set", '{"todos":[]}', "--expected-version", "0"]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("the state is at version 1, not 0");
    expect(stale.stderr).toContain("--expected-version 1");
    const json = await cli(s, ["--json"]);
    expect(JSON.parse(json.stdout)).toEqual({
      state: { todos: ["milk"] },
      version: 1,
      offset: "0000000000000001",
    });
  });

  it("refuses a --set without a version, a bad version or bad JSON, with usage and exit 2", async () => {
    const s = createTestSession(agent);
    for (const [args, words] of [
      [["--set", "{}"], "--set needs --expected-version"],
      [["--set", "{}", "--expected-version", "one"], "must be a whole number"],
      [["--set", "{nope", "--expected-version", "0"], "--set is not valid JSON"],
      [["--expected-version", "0"], "--expected-version goes with --set"],
    ] as const) {
      const result = await cli(s, [...args]);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain(words);
    }
    expect(s.runtime.ledger.tail).toBe(0);
  });
});
