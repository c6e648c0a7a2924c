import { isLoopback, type SessionIndex } from "@durable-agents/cloudflare";
import { indexShards } from "@durable-agents/cloudflare/d1";
import { demoModelChoice } from "./model.ts";

/** The path `npm start` polls: it proves the server is this one and says what it runs. */
export const DEV_INFO_PATH = "/__quickstart";

/**
 * `GET /__quickstart`, answered on a loopback host only (404 elsewhere): the instance id
 * that `npm start` passed as `QUICKSTART_INSTANCE` (so it never takes another server on its
 * port for ours), and the model and auth this Worker really uses, read from its own env
 * (`.dev.vars`, `.env`, `--var`), not from the shell's; and whether the D1 index is on, over
 * which bindings.
 */
export function devInfoResponse(
  request: Request,
  env: Record<string, unknown>,
  index: SessionIndex | undefined,
): Response {
  if (!isLoopback(request)) return new Response("not found", { status: 404 });
  const secret = typeof env.AUTH_SECRET === "string" && env.AUTH_SECRET !== "";
  return Response.json({
    instance: typeof env.QUICKSTART_INSTANCE === "string" ? env.QUICKSTART_INSTANCE : null,
    model: demoModelChoice(env).description,
    auth: secret ? "signed tokens (AUTH_SECRET is set)" : "local dev (AUTH_SECRET unset)",
    index: describeIndex(env, index),
  });
}

function describeIndex(env: Record<string, unknown>, index: SessionIndex | undefined): string {
  if (!index) return "off (turn it on with `const index = d1Index()` in src/worker.ts)";
  try {
    const { binding, shards } = index.options;
    const { names } = indexShards(env, { binding, shards: shards ?? 1 });
    return `on, in D1 ${names.join(", ")}: GET /sessions, GET /usage`;
  } catch (error) {
    return `on, but ${error instanceof Error ? error.message : String(error)}`;
  }
}
