import type { Reader } from "./reader-kit.ts";
import { SocketSession } from "./socket-session.ts";

/** `events({ transport: "ws" })`: the read half of the session socket. */
export const readWebSocket: Reader = (ctx, path, position, options) =>
  new SocketSession(ctx, path, position, options).events();
