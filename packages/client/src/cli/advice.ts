/**
 * The server's error messages end with advice in HTTP terms ("start one with POST .../runs"),
 * right for API callers, some followed by the same for run handles (", or from Worker code:
 * ..."). The CLI shows the same advice as the command that does it, without the handle's.
 */
const ROUTE_TO_COMMAND: readonly (readonly [RegExp, string])[] = [
  [/, or from Worker code: [^;]*/g, ""],
  [/POST \.\.\.\/runs/g, 'durable-agents chat "<message>" --session <id>'],
  [/POST \.\.\.\/retry \(from_checkpoint or from_start\)/g, "durable-agents retry [--from-start]"],
  [/POST \.\.\.\/retry/g, "durable-agents retry"],
  [/POST \.\.\.\/resume/g, "durable-agents resume"],
  [/GET \.\.\.\/checkpoints/g, "durable-agents checkpoints <agent>/<session>"],
  [/GET \.\.\.\/schedules/g, "durable-agents schedules <agent>/<session>"],
  [/GET \.\.\.\/state/g, "durable-agents state <agent>/<session>"],
  [
    /POST \.\.\.\/projections \{"rebuild":"([a-z][a-z0-9_]*)"\}/g,
    "durable-agents projections <agent>/<session> --rebuild $1",
  ],
];

/** `message` with each HTTP route it names replaced by the CLI command for it. */
export function inCliTerms(message: string): string {
  let out = message;
  for (const [route, command] of ROUTE_TO_COMMAND)
    out = out.replace(route, command && `\`${command}\``);
  return out;
}
