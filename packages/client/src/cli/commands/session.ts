/** Commands that map one-to-one onto the session API. */
import type { AgentSession } from "../../session.ts";
import type { ResumeRequest, RunControlResponse } from "../../types.ts";
import { exactlyPositionals, parseJsonFlag, parseTarget, UsageError } from "../args.ts";
import { type CliContext, defineCommand, EXIT, openSession } from "../context.ts";
import { followToExit } from "../follow.ts";
import { formatPart } from "../render.ts";

const NO_FOLLOW = {
  type: "boolean",
  description: "return at once instead of streaming the run",
} as const;

/** The session named by the first positional (`<agent>/<session>`), checking the count. */
export function target(
  ctx: CliContext,
  positionals: string[],
  count: number,
  usage: string,
): AgentSession {
  exactlyPositionals(positionals, count, usage);
  const { agent, session } = parseTarget(positionals[0]);
  return openSession(ctx, agent, session);
}

function noSuchSession(agent: string, session: string): string {
  return `${agent}/${session}: no such session (its ledger has no events yet). Check the id, or start it with: durable-agents chat "<message>" --agent ${agent} --session ${session}\n`;
}

/**
 * True (after saying so) when the session has no events: a read that came back empty
 * was most likely a mistyped id, which an empty answer would hide.
 */
export async function reportIfMissing(ctx: CliContext, session: AgentSession): Promise<boolean> {
  const status = await session.status({ signal: ctx.signal });
  if (status.exists !== false) return false;
  ctx.err(noSuchSession(session.agent, session.id));
  return true;
}

/**
 * Sends a control request and, unless --no-follow, streams the run it
 * continues. The offset is read first so no event of the run is missed.
 */
async function controlAndFollow(
  ctx: CliContext,
  session: AgentSession,
  follow: boolean,
  send: () => Promise<RunControlResponse>,
): Promise<number> {
  const before = follow ? await session.status({ signal: ctx.signal }) : undefined;
  const result = await send();
  if (ctx.json) ctx.out(`${JSON.stringify(result)}\n`);
  else ctx.out(ctx.style.dim(`run ${result.runId}: ${result.status}\n`));
  if (before === undefined) return EXIT.ok;
  return followToExit(ctx, session, { runId: result.runId, offset: before.offset });
}

export const status = defineCommand({
  name: "status",
  summary: "show a session's status and current run",
  usage: "<agent>/<session>",
  options: {},
  async run({ positionals }, ctx) {
    const session = target(ctx, positionals, 1, "status <agent>/<session>");
    const s = await session.status({ signal: ctx.signal });
    if (s.exists === false) {
      if (ctx.json) ctx.out(`${JSON.stringify(s)}\n`);
      ctx.err(noSuchSession(s.agent, s.session));
      return EXIT.failed;
    }
    if (ctx.json) ctx.out(`${JSON.stringify(s)}\n`);
    else
      ctx.out(
        `${s.agent}/${s.session}: ${s.status}${s.runId === null ? "" : ` (run ${s.runId})`}${s.closed ? ", closed" : ""}, offset ${s.offset}\n`,
      );
    return EXIT.ok;
  },
});

export const messages = defineCommand({
  name: "messages",
  summary: "print a session's messages",
  usage: "<agent>/<session>",
  description: "Prints every message of the session, following pagination.",
  options: {},
  async run({ positionals }, ctx) {
    const session = target(ctx, positionals, 1, "messages <agent>/<session>");
    if (await reportIfMissing(ctx, session)) return EXIT.failed;
    await printPages(
      ctx,
      (cursor) =>
        session.messages({ cursor, signal: ctx.signal }).then((p) => ({ ...p, items: p.messages })),
      (m) =>
        `${ctx.style.dim(`${m.role}:`)} ${m.parts.map((p) => formatPart(p, ctx.style)).join(" ")}`,
    );
    return EXIT.ok;
  },
});

export const checkpoints = defineCommand({
  name: "checkpoints",
  summary: "list a session's checkpoints (ids for resume and fork)",
  usage: "<agent>/<session>",
  description:
    "Lists every checkpoint: the start of each run and the end of each step. Their ids feed\n`resume --checkpoint` and `fork`.",
  options: {},
  async run({ positionals }, ctx) {
    const session = target(ctx, positionals, 1, "checkpoints <agent>/<session>");
    await printPages(
      ctx,
      (cursor) =>
        session
          .checkpoints({ cursor, signal: ctx.signal })
          .then((p) => ({ ...p, items: p.checkpoints })),
      (c) =>
        `${c.id.padStart(6)}  ${c.kind === "run.started" ? "run start" : `step ${c.step}`}  ${ctx.style.dim(c.runId)}`,
    );
    return EXIT.ok;
  },
});

/** Prints every item of a cursor-paginated list, one per line (JSON lines with --json). */
async function printPages<T>(
  ctx: CliContext,
  page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
  format: (item: T) => string,
): Promise<void> {
  let cursor: string | undefined;
  do {
    const { items, nextCursor } = await page(cursor);
    for (const item of items) ctx.out(`${ctx.json ? JSON.stringify(item) : format(item)}\n`);
    cursor = nextCursor ?? undefined;
  } while (cursor !== undefined);
}

function stopCommand(name: "interrupt" | "abort", summary: string, detail: string) {
  return defineCommand({
    name,
    summary,
    usage: "<agent>/<session>",
    description: detail,
    options: {
      reason: { type: "string", value: "text", description: "why (kept in the ledger)" },
    },
    async run({ values, positionals }, ctx) {
      const session = target(ctx, positionals, 1, `${name} <agent>/<session>`);
      const options = {
        signal: ctx.signal,
        ...(values.reason === undefined ? {} : { reason: values.reason }),
      };
      const result =
        name === "abort" ? await session.abort(options) : await session.interrupt(options);
      // A running run stops at its next step boundary: the reply is still `running`.
      const pending = result.interruptRequested
        ? ", interrupt requested (it ends interrupted at its next step boundary)"
        : "";
      ctx.out(
        ctx.json
          ? `${JSON.stringify(result)}\n`
          : `run ${result.runId}: ${result.status}${pending}\n`,
      );
      return EXIT.ok;
    },
  });
}

export const interrupt = stopCommand(
  "interrupt",
  "soft-stop the running run (resumable)",
  "Stops the model call in flight and keeps the partial output; resume later with `durable-agents resume`.",
);

export const abort = stopCommand(
  "abort",
  "hard-stop the running run (terminal)",
  "Ends the run for good.",
);

export const resume = defineCommand({
  name: "resume",
  summary: "continue an interrupted or waiting run",
  usage: "<agent>/<session>",
  description: "Continues the session's paused run, then streams it like chat.",
  options: {
    message: { type: "string", value: "text", description: "continue with a new user message" },
    checkpoint: { type: "string", value: "id", description: "continue from a checkpoint" },
    "no-follow": NO_FOLLOW,
  },
  async run({ values, positionals }, ctx) {
    const session = target(ctx, positionals, 1, "resume <agent>/<session>");
    if (values.message !== undefined && values.checkpoint !== undefined) {
      throw new UsageError("pass either --message or --checkpoint, not both");
    }
    const request: ResumeRequest =
      values.message !== undefined
        ? { mode: "with_message", message: values.message }
        : values.checkpoint !== undefined
          ? { mode: "from_checkpoint", checkpoint: values.checkpoint }
          : { mode: "continue" };
    return controlAndFollow(ctx, session, values["no-follow"] !== true, () =>
      session.resume(request, { signal: ctx.signal }),
    );
  },
});

export const approve = defineCommand({
  name: "approve",
  summary: "answer a call that waits: approve, --deny, or send a client-side tool's --result",
  usage: "<agent>/<session> <callId>",
  description: `Answers a call the run waits on, then streams the run as it continues: an approval
request (shown by chat as ⏸ ... needs approval) is approved, or denied with --deny; a
client-side tool (a tool with \`client: true\`, shown as ⏸ ... waits for the client's
output) gets its output with --result, as useChat's addToolOutput sends it.`,
  examples: [
    "approve payer/p1 call_0_0",
    "approve payer/p1 call_0_0 --deny",
    `approve clock/t1 call_0_0 --result '{"time":"12:00"}'`,
  ],
  options: {
    deny: { type: "boolean", description: "deny the call instead of approving it" },
    args: {
      type: "string",
      value: "json",
      description: "run the call with these arguments instead",
    },
    result: {
      type: "string",
      value: "json",
      description:
        "send this as the output of a client-side tool (its call then completes with it, and the tool is not run)",
    },
    "no-follow": NO_FOLLOW,
  },
  async run({ values, positionals }, ctx) {
    const session = target(ctx, positionals, 2, "approve <agent>/<session> <callId>");
    const callId = positionals[1] as string;
    if (values.result !== undefined && (values.deny === true || values.args !== undefined))
      throw new UsageError(
        `--result answers the call with its output; it goes without ${values.deny === true ? "--deny" : "--args"}`,
      );
    const args = values.args === undefined ? undefined : parseJsonFlag("args", values.args);
    const result = values.result === undefined ? undefined : parseJsonFlag("result", values.result);
    return controlAndFollow(ctx, session, values["no-follow"] !== true, () =>
      session.approve(callId, values.deny !== true, { signal: ctx.signal, args, result }),
    );
  },
});

export const retry = defineCommand({
  name: "retry",
  summary: "retry a failed run from its last checkpoint (or --from-start)",
  usage: "<agent>/<session>",
  options: {
    "from-start": {
      type: "boolean",
      description: "retry the whole run, not from its last checkpoint",
    },
    "no-follow": NO_FOLLOW,
  },
  async run({ values, positionals }, ctx) {
    const session = target(ctx, positionals, 1, "retry <agent>/<session>");
    const mode = values["from-start"] === true ? "from_start" : "from_checkpoint";
    return controlAndFollow(ctx, session, values["no-follow"] !== true, () =>
      session.retry(mode, { signal: ctx.signal }),
    );
  },
});

export const fork = defineCommand({
  name: "fork",
  summary: "fork a session at a checkpoint into a new session",
  usage: "<agent>/<session> <checkpointId>",
  description:
    "Copies the session's ledger up to a checkpoint into a new session. A fork writes its target,\nso naming one with --session needs a credential that may write it as well as the source\n(local dev may; a session token names one session, so it may not: leave --session out)",
  options: {
    session: {
      type: "string",
      value: "id",
      description: "the new session's id (default: one the server picks)",
    },
  },
  async run({ values, positionals }, ctx) {
    const session = target(ctx, positionals, 2, "fork <agent>/<session> <checkpointId>");
    const result = await session.fork(positionals[1] as string, {
      signal: ctx.signal,
      ...(values.session === undefined ? {} : { session: values.session }),
    });
    ctx.out(
      ctx.json ? `${JSON.stringify(result)}\n` : `forked into ${session.agent}/${result.session}\n`,
    );
    return EXIT.ok;
  },
});
