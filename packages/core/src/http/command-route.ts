import type { CommandName } from "../commands/command.ts";
import { type CommandOutcome, dispatchCommand } from "../commands/dispatch.ts";
import { SESSION_COMMANDS } from "../commands/session-commands.ts";
import { bodyLimit } from "./limits.ts";
import { readJson, readOptionalJson } from "./read-json.ts";
import type { SessionHttpContext, SessionRoute } from "./route.ts";

/** Where an HTTP route finds a command's input. */
export type InputSource = "body" | "optional-body" | "query";

/**
 * The HTTP parser of a command: reads its input from the request and hands it to the
 * command layer; the route adds nothing else (no checks, no hooks of its own).
 */
export function commandRoute(name: CommandName, source: InputSource): SessionRoute {
  return async (request, ctx) =>
    renderCommandResponse(
      await runHttpCommand(name, await httpInput(name, request, source), request, ctx),
    );
}

/** Dispatches a command that arrived over HTTP (also for routes that stream its result). */
export function runHttpCommand(
  name: CommandName,
  input: unknown,
  request: Request,
  ctx: SessionHttpContext,
): Promise<CommandOutcome> {
  return dispatchCommand(name, input, { ...ctx, transport: "http", request });
}

/** A command outcome as an HTTP response. */
export function renderCommandResponse(outcome: CommandOutcome): Response {
  if (outcome.type === "answered") return outcome.response;
  return outcome.response ?? Response.json(outcome.result ?? null, { status: outcome.status });
}

/** The raw input: the JSON body (absent is `{}` when optional) or the query's parameters. */
async function httpInput(
  name: CommandName,
  request: Request,
  source: InputSource,
): Promise<unknown> {
  if (source === "query") return queryInput(name, new URL(request.url).searchParams);
  const limit = bodyLimit(SESSION_COMMANDS[name].http.action);
  return source === "optional-body"
    ? readOptionalJson(request.clone(), limit)
    : readJson(request.clone(), limit);
}

/**
 * A DELETE's input: the query's parameters the command's input declares. The query also carries
 * what the door reads (`?token=`, a parameter an app's `authorize` reads), which is not input;
 * a misspelled parameter leaves a required one missing, a 400 like any other.
 */
function queryInput(name: CommandName, params: URLSearchParams): Record<string, string> {
  const shape = (SESSION_COMMANDS[name].input as { shape?: Record<string, unknown> }).shape ?? {};
  return Object.fromEntries([...params].filter(([key]) => Object.hasOwn(shape, key)));
}
