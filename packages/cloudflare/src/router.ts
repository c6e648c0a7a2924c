import { errorResponse, NotFoundError } from "@durable-agents/core";
import { parseSessionPath, sessionObjectName } from "./agent-object/session-path.ts";
import { routeStreamRequest, STREAM_ROOT } from "./stream-object/route-stream-request.ts";

export interface RouterEnv {
  readonly AGENTS: DurableObjectNamespace;
  readonly STREAMS?: DurableObjectNamespace;
}

/**
 * The Worker entry: sends each session route to its session's object, and
 * `/v1/stream/*` to the Durable Streams objects.
 * @example
 * export default { fetch: (request, env, ctx) => routeRequest(request, env, ctx) };
 */
export async function routeRequest(
  request: Request,
  env: RouterEnv,
  _ctx?: ExecutionContext,
): Promise<Response> {
  try {
    const url = new URL(request.url);
    if (url.pathname.startsWith(STREAM_ROOT) && env.STREAMS) {
      return await routeStreamRequest(request, env.STREAMS);
    }
    const session = parseSessionPath(url.pathname);
    if (session) {
      const stub = env.AGENTS.get(
        env.AGENTS.idFromName(sessionObjectName(session.agent, session.session)),
      );
      return await stub.fetch(request);
    }
    throw new NotFoundError(
      "not_found",
      `no route for ${request.method} ${url.pathname.slice(0, 100)}; session routes are /agents/:agent/:session/{runs,status,messages,events,interrupt,abort}`,
    );
  } catch (error) {
    return errorResponse(error);
  }
}
