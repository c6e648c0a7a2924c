/**
 * The client tests' server routes useChat's URLs as the Worker does (its own `chatRoute`,
 * cloudflare/src/agent-object/chat-path.ts): a chat request it cannot route is the Worker's
 * 400, not a 404 of the test server's own.
 */
import { afterEach, expect, it } from "vitest";
import type { RealServer } from "./real-server.ts";
import { start } from "./support.ts";

let server: RealServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

it("answers a chat request without a chat id or with bad JSON as the Worker does", async () => {
  server = await start();
  const post = async (body: string) => {
    const response = await fetch(`${server?.url}/chat/assistant`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    return [response.status, ((await response.json()) as { error: { code: string } }).error.code];
  };
  expect(await post("{not json")).toEqual([400, "malformed_json"]);
  expect(await post(JSON.stringify({ messages: [] }))).toEqual([400, "invalid_request"]);
  expect(await post(JSON.stringify({ id: "", messages: [] }))).toEqual([400, "invalid_request"]);
});
