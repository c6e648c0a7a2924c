import * as z from "zod";
import { TRUSTED_CALLER } from "../src/commands/caller.ts";
import type { Transport } from "../src/commands/command.ts";
import type { CommandCall } from "../src/commands/dispatch.ts";
import type { SessionHttpContext } from "../src/http/route.ts";
import { defineAgent, defineTool, scriptedModel } from "../src/index.ts";
import type { SqlPort } from "../src/sql/port.ts";
import { DEFAULT_LIVE_READ } from "../src/streams/ledger-source.ts";
import { inProcessSession, MemoryWorkflows } from "../src/testing/memory-workflows.ts";
import { createTestSession, type TestSession } from "../src/testing/test-session.ts";

export const calculator = defineTool({
  name: "calculator",
  description: "Adds two numbers",
  input: z.object({ a: z.number(), b: z.number() }),
  effect: "pure",
  execute: ({ a, b }) => a + b,
});

/** Step 1 calls the calculator; step 2 answers with its result. */
export const mathAgent = defineAgent({
  name: "math",
  system: "You add numbers.",
  tools: [calculator],
  model: scriptedModel({
    chunkSize: 3,
    rules: [
      ({ turn, toolResults }) =>
        turn === 0
          ? { text: "Let me add.", toolCalls: [{ name: "calculator", args: { a: 2, b: 3 } }] }
          : { text: `The answer is ${toolResults[0]?.output}.` },
    ],
  }),
});

export const counterState = z.object({ count: z.number().int(), label: z.string().optional() });

/** Adds to the app state's counter, and reports what `ctx.state.get()` saw before and after `set`. */
export const bump = defineTool({
  name: "bump",
  description: "Adds to the counter",
  input: z.object({ by: z.number() }),
  effect: "idempotent",
  execute: ({ by }, ctx) => {
    const before = ctx.state.get();
    ctx.state.set({ count: (before.state as { count: number }).count + by });
    const after = ctx.state.get();
    return { before: before.state, after: after.state, version: after.version };
  },
});

/** Step 1 bumps by 1, step 2 by 10, step 3 answers. The state starts at { count: 0 }. */
export const counterAgent = defineAgent({
  name: "counter",
  system: "You count.",
  tools: [bump],
  initialState: { count: 0 },
  stateSchema: counterState,
  model: scriptedModel({
    turns: [
      { toolCalls: [{ name: "bump", args: { by: 1 } }] },
      { toolCalls: [{ name: "bump", args: { by: 10 } }] },
      { text: "Counted." },
    ],
  }),
});

/** An irreversible tool a human approves first (`needsApproval`). */
export const transfer = defineTool({
  name: "transfer",
  description: "Moves money; a human approves it first.",
  input: z.object({ amount: z.number() }),
  effect: "irreversible",
  needsApproval: true,
  execute: ({ amount }) => ({ moved: amount }),
});

/** Says "Moving it." and calls transfer(5), which waits for approval; then answers "Moved.". */
export const banker = defineAgent({
  name: "banker",
  system: "You move money.",
  tools: [transfer],
  model: scriptedModel({
    turns: [
      { text: "Moving it.", toolCalls: [{ name: "transfer", args: { amount: 5 } }] },
      { text: "Moved." },
    ],
  }),
});

/**
 * The call of a command on test session `t` by a trusted caller (what the door passes once the
 * rule let it in) over `transport`, with `extra` fields (hooks, origin...) over it.
 */
export function trustedCall(
  t: TestSession,
  transport: Transport,
  extra: Partial<CommandCall> = {},
): CommandCall {
  return {
    runtime: t.runtime,
    sql: t.sql,
    clock: t.clock,
    caller: TRUSTED_CALLER,
    transport,
    ...extra,
  };
}

/**
 * The context a session request on test session `t` is handled in, by a trusted caller, with
 * the default live read; `extra` fields (live, hooks...) over it.
 */
export function httpContext(
  t: TestSession,
  extra: Partial<SessionHttpContext> = {},
): SessionHttpContext {
  return {
    runtime: t.runtime,
    sql: t.sql,
    clock: t.clock,
    live: DEFAULT_LIVE_READ,
    caller: TRUSTED_CALLER,
    ...extra,
  };
}

/**
 * A banker session whose transfer(5) asked for approval and was then `approved` (or denied):
 * the session, the call's id and the ledger as it stood while the run waited. The resumed run
 * is not drained yet.
 */
export async function bankerDecided(approved: boolean) {
  const s = createTestSession(banker);
  await s.runtime.start({ message: "move 5" });
  await s.drain();
  const waiting = s.runtime.ledger.read(0);
  const requested = waiting.find((e) => e.kind === "approval.requested");
  if (requested?.kind !== "approval.requested") throw new Error("the run did not ask for approval");
  const { callId } = requested.data;
  await s.runtime.resume({ approvals: [{ callId, approved }] });
  return { s, waiting, callId };
}

/**
 * Counts the whole-prompt reads (readPrompt's one statement, message-prompts.ts) made through
 * `s.sql` from now on, but those made while `uncounted()` holds: `counter.loads` grows by one
 * each. Returns `counter` (a new one by default).
 */
export function countLoads<C extends { loads: number }>(
  s: { readonly sql: SqlPort },
  counter: C = { loads: 0 } as C,
  uncounted: () => boolean = () => false,
): C {
  const exec = s.sql.exec.bind(s.sql);
  s.sql.exec = ((query: string, ...params) => {
    if (!uncounted() && query.includes("group_concat(p, ',')")) counter.loads++;
    return exec(query, ...params);
  }) as typeof s.sql.exec;
  return counter;
}

/**
 * An in-memory Workflows binding whose instances drive the runs of the session `session()`
 * returns when a step runs (so it may be created after the binding, or restarted); a workflow
 * tool's job, in an instance of its own, ends with `job`'s outcome (MemoryWorkflows' default:
 * failed, when not given).
 */
export function sessionWorkflows(
  session: () => TestSession,
  job?: ConstructorParameters<typeof MemoryWorkflows>[1],
): MemoryWorkflows {
  return new MemoryWorkflows(
    (params) => inProcessSession(() => session().runtime, params.runId),
    job,
  );
}

/**
 * Runs the session `session()` returns (read each round: a restart may replace it) and the
 * Workflow instances of `flows` until no work is due now and all rest; throws after `rounds`
 * rounds ("the session did not settle").
 */
export async function settleDue(
  session: () => TestSession,
  flows?: MemoryWorkflows,
  rounds = 1000,
): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await session().drain();
    await flows?.resting();
    const due = session().wakeAt();
    if (due === null || due > session().clock.now()) return;
  }
  throw new Error("the session did not settle");
}
