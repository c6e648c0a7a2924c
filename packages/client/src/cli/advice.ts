import type { Target } from "./context.ts";

/**
 * The server's error messages end with advice in HTTP terms ("start one with POST .../runs"),
 * right for API callers, some followed by the same for run handles (", or from Worker code:
 * ..."). The CLI shows the same advice as the command that does it, without the handle's,
 * naming the session the user typed (`<agent>` and `<session>` below) when it knows it.
 */
const ROUTE_TO_COMMAND: readonly (readonly [RegExp, string])[] = [
  [/, or from Worker code: [^;]*/g, ""],
  [/POST \.\.\.\/runs/g, 'durable-agents chat "<message>" --agent <agent> --session <session>'],
  [
    /POST \.\.\.\/retry \(from_checkpoint or from_start\)/g,
    "durable-agents retry <agent>/<session> [--from-start]",
  ],
  [/POST \.\.\.\/retry/g, "durable-agents retry <agent>/<session>"],
  [/POST \.\.\.\/resume/g, "durable-agents resume <agent>/<session>"],
  [/GET \.\.\.\/checkpoints/g, "durable-agents checkpoints <agent>/<session>"],
  [/GET \.\.\.\/schedules/g, "durable-agents schedules <agent>/<session>"],
  [/GET \.\.\.\/state/g, "durable-agents state <agent>/<session>"],
  [
    /POST \.\.\.\/projections \{"rebuild":"([a-z][a-z0-9_]*)"\}/g,
    "durable-agents projections <agent>/<session> --rebuild $1",
  ],
];

/**
 * `message` with each HTTP route it names replaced by the CLI command for it, on `target`
 * (the session the command worked on) or, without one, with `<agent>` and `<session>` to fill in.
 */
export function inCliTerms(message: string, target?: Target): string {
  let out = message;
  for (const [route, command] of ROUTE_TO_COMMAND)
    out = out.replace(route, (_match, ...groups: unknown[]) => {
      if (command === "") return "";
      // Split and join, never a replacement string: an id may hold `$`.
      let text = command.replace(/\$(\d)/g, (_, i: string) => String(groups[Number(i) - 1]));
      if (target)
        text = text.split("<agent>").join(target.agent).split("<session>").join(target.session);
      return `\`${text}\``;
    });
  return out;
}
