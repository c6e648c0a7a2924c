/** Commands over whole-session views and the index: close, usage, snapshot, schedules, sessions. */
import type { ScheduleBody } from "../../types.ts";
import { exactlyPositionals, parseJsonFlag, UsageError } from "../args.ts";
import { defineCommand, EXIT } from "../context.ts";
import { reportIfMissing, target } from "./session.ts";

export const close = defineCommand({
  name: "close",
  summary: "close a session for good (its ledger ends)",
  usage: "<agent>/<session>",
  description:
    "Ends the session's ledger: readers see the stream closed, its schedules are cancelled,\nand it takes no new run. Refused while a run is active: interrupt or abort it first.",
  options: {
    reason: { type: "string", value: "text", description: "why (kept in the ledger)" },
  },
  async run({ values, positionals }, ctx) {
    const session = target(ctx, positionals, 1, "close <agent>/<session>");
    const result = await session.close({
      signal: ctx.signal,
      ...(values.reason === undefined ? {} : { reason: values.reason }),
    });
    ctx.out(ctx.json ? `${JSON.stringify(result)}\n` : `${session.agent}/${session.id}: closed\n`);
    return EXIT.ok;
  },
});

export const usage = defineCommand({
  name: "usage",
  summary: "show a session's token usage, per run and in all",
  usage: "<agent>/<session>",
  options: {},
  async run({ positionals }, ctx) {
    const session = target(ctx, positionals, 1, "usage <agent>/<session>");
    if (await reportIfMissing(ctx, session)) return EXIT.failed;
    const view = await session.usage({ signal: ctx.signal });
    if (ctx.json) {
      ctx.out(`${JSON.stringify(view)}\n`);
      return EXIT.ok;
    }
    for (const m of view.models)
      ctx.out(
        `model ${m.model}: ${m.calls} call${m.calls === 1 ? "" : "s"}, ${m.inputTokens} in (${m.cachedInputTokens} cached), ${m.outputTokens} out (${m.reasoningTokens} reasoning)\n`,
      );
    for (const t of view.tools)
      ctx.out(`tool ${t.name}: ${t.calls} call${t.calls === 1 ? "" : "s"}, ${t.failures} failed\n`);
    for (const a of view.subagents)
      ctx.out(
        `sub-agent ${a.agent}: ${a.calls} call${a.calls === 1 ? "" : "s"}, ${a.inputTokens} in, ${a.outputTokens} out\n`,
      );
    const r = view.rollup;
    ctx.out(
      `total with sub-agents: ${r.inputTokens} in, ${r.outputTokens} out, ${r.modelCalls} model calls${r.cost === null ? "" : `, cost ${r.cost}`}\n`,
    );
    return EXIT.ok;
  },
});

export const snapshot = defineCommand({
  name: "snapshot",
  summary: "print a consistent view of the whole session (messages, state, status)",
  usage: "<agent>/<session>",
  description:
    "Prints the session as of one offset; `tail --offset <offset>` continues from there.",
  options: {},
  async run({ positionals }, ctx) {
    const session = target(ctx, positionals, 1, "snapshot <agent>/<session>");
    if (await reportIfMissing(ctx, session)) return EXIT.failed;
    const view = await session.snapshot({ signal: ctx.signal });
    if (ctx.json) ctx.out(`${JSON.stringify(view)}\n`);
    else
      ctx.out(
        `${session.agent}/${session.id}: ${view.status.status}, ${view.messages.length} message${view.messages.length === 1 ? "" : "s"}, state version ${view.stateVersion}, offset ${view.offset}\n`,
      );
    return EXIT.ok;
  },
});

export const schedules = defineCommand({
  name: "schedules",
  summary: "list a session's schedules, or --add / --cancel one",
  usage: "<agent>/<session>",
  description: `Lists the session's schedules (stuck claims flagged) and the trigger kinds the
server knows. --add <kind> schedules one, with exactly one of --delay, --at or --cron
(--time-zone for a cron's wall-clock time, UTC by default); --cancel <key> cancels one.
The payload is checked against the kind's schema on the server (the examples fit the
quickstart's "reminder" kind).`,
  examples: [
    "schedules assistant/demo",
    'schedules assistant/demo --add reminder --delay 60 --payload \'{"message":"time to stretch"}\'',
    'schedules assistant/demo --add reminder --cron "0 9 * * MON-FRI" --time-zone Europe/Paris --key standup --payload \'{"message":"show my notes"}\'',
    "schedules assistant/demo --cancel standup",
  ],
  options: {
    add: { type: "string", value: "kind", description: "schedule a trigger of this kind" },
    delay: {
      type: "string",
      value: "seconds",
      description: "with --add: run in this many seconds",
    },
    at: { type: "string", value: "date", description: "with --add: run at this ISO date" },
    cron: { type: "string", value: "expr", description: "with --add: run on this cron schedule" },
    "time-zone": {
      type: "string",
      value: "IANA name",
      description: "with --cron: its time zone, e.g. Europe/Paris (default UTC)",
    },
    payload: { type: "string", value: "json", description: "with --add: the trigger's payload" },
    key: {
      type: "string",
      value: "key",
      description: "with --add: replaces the schedule of this key",
    },
    cancel: { type: "string", value: "key", description: "cancel the schedule of this key" },
  },
  async run({ values, positionals }, ctx) {
    const session = target(ctx, positionals, 1, "schedules <agent>/<session>");
    if (values.cancel !== undefined) {
      if (values.add !== undefined) throw new UsageError("pass either --add or --cancel, not both");
      const result = await session.cancelSchedule(values.cancel, { signal: ctx.signal });
      ctx.out(ctx.json ? `${JSON.stringify(result)}\n` : `cancelled ${result.cancelled}\n`);
      return EXIT.ok;
    }
    if (values.add !== undefined) {
      const view = await session.schedule(scheduleBody(values.add, values), { signal: ctx.signal });
      ctx.out(ctx.json ? `${JSON.stringify(view)}\n` : `scheduled ${JSON.stringify(view)}\n`);
      return EXIT.ok;
    }
    const list = await session.schedules({ signal: ctx.signal });
    if (ctx.json) {
      ctx.out(`${JSON.stringify(list)}\n`);
      return EXIT.ok;
    }
    for (const s of list.schedules) {
      const when = s.cron === null ? "once" : `cron ${s.cron} (${s.timeZone ?? "UTC"})`;
      ctx.out(
        `${s.key}  ${s.kind}  ${when}, next ${new Date(s.dueAt).toISOString()}${s.stuck ? "  (stuck)" : ""}  ${ctx.style.dim(JSON.stringify(s.payload))}\n`,
      );
    }
    if (list.schedules.length === 0) ctx.out(ctx.style.dim("no schedules\n"));
    ctx.out(ctx.style.dim(`trigger kinds: ${list.kinds.join(", ") || "(none)"}\n`));
    return EXIT.ok;
  },
});

function scheduleBody(
  kind: string,
  values: {
    delay?: string;
    at?: string;
    cron?: string;
    "time-zone"?: string;
    payload?: string;
    key?: string;
  },
): ScheduleBody {
  const when = [values.delay, values.at, values.cron].filter((v) => v !== undefined);
  if (when.length !== 1) throw new UsageError("--add needs exactly one of --delay, --at or --cron");
  if (values["time-zone"] !== undefined && values.cron === undefined)
    throw new UsageError("--time-zone applies to --cron only; --delay and --at are instants");
  const payload =
    values.payload === undefined ? undefined : parseJsonFlag("payload", values.payload);
  const delay = values.delay === undefined ? undefined : Number(values.delay);
  if (delay !== undefined && !(Number.isFinite(delay) && delay >= 0))
    throw new UsageError(`--delay must be a number of seconds, not "${values.delay}"`);
  return {
    kind,
    ...(payload === undefined ? {} : { payload: payload as ScheduleBody["payload"] }),
    ...(values.key === undefined ? {} : { key: values.key }),
    ...(delay === undefined ? {} : { delayMs: Math.round(delay * 1000) }),
    ...(values.at === undefined ? {} : { at: values.at }),
    ...(values.cron === undefined ? {} : { cron: values.cron }),
    ...(values["time-zone"] === undefined ? {} : { timeZone: values["time-zone"] }),
  };
}

export const sessions = defineCommand({
  name: "sessions",
  summary: "list sessions from the index, newest first",
  usage: "",
  description:
    "Reads GET /sessions (the D1 index). Beyond local dev it needs a token with the admin scope.",
  options: {
    agent: { type: "string", value: "name", description: "only this agent's sessions" },
    status: { type: "string", value: "status", description: "only sessions in this status" },
    limit: { type: "string", value: "n", description: "at most this many (1-200)" },
  },
  async run({ values, positionals }, ctx) {
    exactlyPositionals(positionals, 0, "sessions [--agent <name>] [--status <status>]");
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 200))
      throw new UsageError(`--limit must be a whole number from 1 to 200, not "${values.limit}"`);
    const page = await ctx.client.sessions({
      signal: ctx.signal,
      ...(values.agent === undefined ? {} : { agent: values.agent }),
      ...(values.status === undefined ? {} : { status: values.status }),
      ...(limit === undefined ? {} : { limit }),
    });
    for (const s of page.sessions)
      ctx.out(
        ctx.json
          ? `${JSON.stringify(s)}\n`
          : `${s.agent}/${s.session}  ${s.status}  ${ctx.style.dim(new Date(s.updatedAt).toISOString())}\n`,
      );
    if (!ctx.json && page.sessions.length === 0) ctx.out(ctx.style.dim("no sessions\n"));
    return EXIT.ok;
  },
});
