export { DurableStreamObject, type StreamObjectEnv } from "./durable-stream-object.ts";
export {
  routeStreamRequest,
  STREAM_ROOT,
  type StreamRouteOptions,
} from "./route-stream-request.ts";
export { streamAccessTargets } from "./stream-access.ts";
export { type StreamVars, streamConfigFromVars } from "./stream-config.ts";
