import { describe, expect, it } from "vitest";
import { ForbiddenError } from "../auth/auth-errors.ts";
import { answeredByHook } from "../commands/status-transition.ts";
import { DurableAgentsError, RetryableError, UserError } from "./base.ts";
import { errorFromWire } from "./from-wire.ts";
import { BadRequestError, ConflictError, NotFoundError } from "./http-errors.ts";

describe("errorFromWire: a rendered error back as its subclass", () => {
  it("picks the subclass by status and keeps code, message and details", () => {
    const fallback = { code: "refused", message: "refused" };
    const cases = [
      [400, BadRequestError],
      [403, ForbiddenError],
      [404, NotFoundError],
      [409, ConflictError],
      [422, UserError],
      [503, RetryableError],
    ] as const;
    for (const [status, type] of cases) {
      const body = new ConflictError("x", "why", { details: { a: 1 } }).toJSON();
      const error = errorFromWire(status, body, fallback);
      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject({ status, code: "x", message: "why", details: { a: 1 } });
    }
    const other = errorFromWire(500, "not json", fallback);
    expect(other).toBeInstanceOf(DurableAgentsError);
    expect(other).not.toBeInstanceOf(UserError);
    expect(other).toMatchObject({ status: 500, code: "refused", message: "refused" });
  });
});

describe("answeredByHook: a hook's answer for callers without a Response", () => {
  it("a refusal with our error JSON keeps the app's status, code and message", async () => {
    const response = Response.json(
      { error: { code: "refused", message: "not here" } },
      { status: 422 },
    );
    expect(await answeredByHook("start", response)).toMatchObject({
      status: 422,
      code: "refused",
      message: "not here",
      details: { command: "start", hookStatus: 422 },
    });
  });

  it("a refusal in plain text keeps its status and text; a success answer is a 409", async () => {
    const text = await answeredByHook("resume", new Response("go away", { status: 403 }));
    expect(text).toBeInstanceOf(ForbiddenError);
    expect(text).toMatchObject({ status: 403, code: "answered_by_hook" });
    expect(text.message).toContain("go away");
    const ok = await answeredByHook("start", Response.json({ queued: true }));
    expect(ok).toBeInstanceOf(ConflictError);
    expect(ok).toMatchObject({ code: "answered_by_hook", details: { hookStatus: 200 } });
  });
});
