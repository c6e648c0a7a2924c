/**
 * The chat body is the AI SDK's protocol: a field it defines that this server does not use is
 * ignored, not refused, while the start command the request becomes stays strict (its files
 * are AI SDK `FilePart`s that take no `providerOptions`). A `FileUIPart` may carry
 * `providerMetadata` and `providerReference` (ai v7), and a client may add `providerOptions`.
 */
import { describe, expect, it } from "vitest";
import { httpContext, mathAgent } from "../../../test/fixtures.ts";
import { DEFAULT_LIVE_READ } from "../../streams/ledger-source.ts";
import { createTestSession, type TestSession } from "../../testing/test-session.ts";
import { errorResponse } from "../error-response.ts";
import { handleSessionRequest } from "../session-handler.ts";

function post(body: unknown, t: TestSession): Promise<Response> {
  const ctx = httpContext(t, { live: { ...DEFAULT_LIVE_READ, windowMs: 0 } });
  const request = new Request("http://x/agents/math/s1/chat", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return handleSessionRequest(request, "chat", ctx).catch((error: unknown) =>
    errorResponse(error, () => undefined),
  );
}

const PNG = "data:image/png;base64,iVBORw0KGgo=";

describe("a chat request's file part", () => {
  it("with the AI SDK's fields this server does not use starts the run with the file", async () => {
    const t = createTestSession(mathAgent);
    const part = {
      type: "file",
      mediaType: "image/png",
      url: PNG,
      providerOptions: { openai: { detail: "low" } },
      providerMetadata: { openai: { x: 1 } },
      providerReference: { openai: "file-1" },
    };
    const r = await post(
      {
        id: "s1",
        trigger: "submit-message",
        messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "see" }, part] }],
      },
      t,
    );
    expect(r.status, r.status >= 400 ? await r.text() : "").toBe(200);
    await r.body?.cancel();
    await t.drain();
    const started = t.runtime.ledger.read(0).find((e) => e.kind === "run.started");
    expect(started?.data).toMatchObject({
      input: { message: "see", files: [{ type: "file", mediaType: "image/png", url: PNG }] },
    });
  });
});
