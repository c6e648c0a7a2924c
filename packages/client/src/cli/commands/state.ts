/** `durable-agents state`: read the application state, or replace it with compare-and-set. */
import { StateVersionConflictError } from "../../errors.ts";
import { parseJsonFlag, UsageError } from "../args.ts";
import { defineCommand, EXIT } from "../context.ts";
import { target } from "./session.ts";

export const state = defineCommand({
  name: "state",
  summary: "print a session's application state, or --set it (compare-and-set)",
  usage: "<agent>/<session>",
  description: `Prints the session's application state and its version. With --set, replaces
the whole state, but only if it is still at --expected-version (the version a
read printed); if it changed meanwhile, nothing is written and the command
exits 1 with the version it is at now.`,
  examples: [
    "state assistant/demo",
    'state assistant/demo --set \'{"theme":"dark"}\' --expected-version 3',
  ],
  options: {
    set: { type: "string", value: "json", description: "the new state, as JSON" },
    "expected-version": {
      type: "string",
      value: "n",
      description: "the version you read (required with --set)",
    },
  },
  async run({ values, positionals }, ctx) {
    const session = target(ctx, positionals, 1, "state <agent>/<session>");
    if (values.set === undefined) {
      if (values["expected-version"] !== undefined)
        throw new UsageError("--expected-version goes with --set");
      const read = await session.state({ signal: ctx.signal });
      if (ctx.json) ctx.out(`${JSON.stringify(read)}\n`);
      else
        ctx.out(
          `${ctx.style.dim(`version ${read.version}, offset ${read.offset}`)}\n${JSON.stringify(read.state, null, 2)}\n`,
        );
      return EXIT.ok;
    }
    const next = parseJsonFlag("set", values.set);
    const expectedVersion = parseVersion(values["expected-version"]);
    try {
      const written = await session.setState(next, { expectedVersion, signal: ctx.signal });
      ctx.out(
        ctx.json ? `${JSON.stringify(written)}\n` : `state is now version ${written.version}\n`,
      );
      return EXIT.ok;
    } catch (error) {
      if (!(error instanceof StateVersionConflictError)) throw error;
      ctx.err(
        ctx.style.red(
          `error: the state is at version ${error.currentVersion}, not ${expectedVersion}: it changed since you read it. Read it again with \`durable-agents state ${session.agent}/${session.id}\`, then retry with --expected-version ${error.currentVersion}\n`,
        ),
      );
      return EXIT.failed;
    }
  },
});

function parseVersion(text: string | undefined): number {
  if (text === undefined)
    throw new UsageError(
      "--set needs --expected-version: the version a read printed (0 for a new session)",
    );
  if (!/^\d{1,15}$/.test(text))
    throw new UsageError(`--expected-version must be a whole number, not "${text}"`);
  return Number(text);
}
