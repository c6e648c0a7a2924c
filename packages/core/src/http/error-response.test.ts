import { describe, expect, it } from "vitest";
import { BadRequestError } from "../errors/http-errors.ts";
import { TerminalError } from "../errors/index.ts";
import { errorResponse } from "./error-response.ts";

describe("errorResponse", () => {
  it("hands every 5xx cause to the caller's logger, and no 4xx", async () => {
    const logged: unknown[] = [];
    const log = (cause: unknown) => logged.push(cause);
    const crash = new RangeError("Maximum call stack size exceeded");
    const internal = errorResponse(crash, log);
    expect(internal.status).toBe(500);
    expect(await internal.json()).toEqual({
      error: { code: "internal", message: "internal error; the server log has the cause" },
    });
    const typed = new TerminalError("index_not_migrated", "apply the migrations");
    expect(errorResponse(typed, log).status).toBe(500);
    expect(errorResponse(new BadRequestError("bad", "a bad request"), log).status).toBe(400);
    expect(logged).toEqual([crash, typed]);
  });
});
