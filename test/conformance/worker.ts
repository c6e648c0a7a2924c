import { allowLocalDev } from "../../packages/cloudflare/src/auth/authorize.ts";
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
      // The suite sends no credentials: loopback with AUTH_SECRET unset is local dev.
      return routeStreamRequest(request, env.STREAMS, env, { authorize: allowLocalDev() });
    return new Response("durable-streams conformance worker", { status: 404 });
  },
} satisfies ExportedHandler<StreamObjectEnv>;
