import { afterEach, describe, expect, it } from "vitest";
import { useAgentSession } from "../src/react/index.ts";
import { renderHook } from "./mini-react.ts";
import type { RealServer } from "./real-server.ts";
import { start } from "./support.ts";

let server: RealServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe("useAgentSession", () => {
  it("connects on mount, re-renders as the run streams, and disconnects on unmount", async () => {
    server = await start();
    let renders = 0;
    const { result, unmount } = renderHook(() => {
      renders++;
      return useAgentSession({ agent: "assistant", session: "h1", baseUrl: server?.url ?? "" });
    });
    expect(result.current.status).toBe("idle");
    await until(() => result.current.connected);
    await result.current.send("What is 2+3?");
    await until(() => result.current.status === "completed");
    expect(result.current.messages.at(-1)?.parts).toEqual([{ type: "text", text: "2 + 3 = 5." }]);
    unmount();
    const after = renders;
    await fetch(`${server.url}/agents/assistant/h1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "again" } }),
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(renders).toBe(after);
  });
});
