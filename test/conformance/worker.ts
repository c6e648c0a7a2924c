import {
  DurableStreamObject,
  routeStreamRequest,
  type StreamObjectEnv,
} from "../../packages/cloudflare/src/stream-object/index.ts";

export { DurableStreamObject };

export default {
  fetch(request: Request, env: StreamObjectEnv): Promise<Response> | Response {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/v1/stream/"))
      return routeStreamRequest(request, env.STREAMS, env);
    return new Response("durable-streams conformance worker", { status: 404 });
  },
} satisfies ExportedHandler<StreamObjectEnv>;
