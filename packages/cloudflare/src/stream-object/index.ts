export { DurableStreamObject, type StreamObjectEnv } from "./durable-stream-object.ts";
export { routeStreamRequest, STREAM_ROOT } from "./route-stream-request.ts";
export { type StreamVars, streamConfigFromVars } from "./stream-config.ts";
