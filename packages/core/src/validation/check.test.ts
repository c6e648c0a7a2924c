import { afterEach, describe, expect, it } from "vitest";
import * as classic from "zod";
import * as z from "zod/mini";
import { check } from "./check.ts";
import { closedObject } from "./fields.ts";

describe("check: zod's English messages, whatever the global zod config", () => {
  const saved = z.config().localeError;
  afterEach(() => {
    z.config({ localeError: saved });
  });

  const body = z.object({ message: z.string().check(z.minLength(1)), n: z.optional(z.int()) });

  it("renders every issue as path: message, for zod/mini schemas", () => {
    z.config({ localeError: undefined });
    const result = check(body, { message: "", n: "2" });
    expect(result).toEqual({
      success: false,
      issues: [
        { path: "message", message: "Too small: expected string to have >=1 characters" },
        { path: "n", message: "Invalid input: expected number, received string" },
      ],
      summary:
        "message: Too small: expected string to have >=1 characters; n: Invalid input: expected number, received string",
    });
  });

  it("keeps English when another locale is configured, and parses classic zod schemas too", () => {
    z.config(classic.locales.fr());
    expect(classic.string().safeParse(1).error?.issues[0]?.message).not.toMatch(/expected/);
    const result = check(classic.object({ a: classic.number() }), { a: "x" });
    expect(result.success === false && result.summary).toBe(
      "a: Invalid input: expected number, received string",
    );
    expect(check(body, null)).toMatchObject({
      success: false,
      summary: "(root): Invalid input: expected object, received null",
    });
  });

  it("returns the parsed value (defaults applied) on success", () => {
    const schema = z.object({ mode: z._default(z.enum(["a", "b"]), "a") });
    expect(check(schema, {})).toEqual({ success: true, data: { mode: "a" } });
  });

  it("parses any Standard Schema by its ~standard.validate, issues rendered the same way; an async one fails", () => {
    const standard = (validate: (v: unknown) => unknown) =>
      ({ "~standard": { version: 1, vendor: "hand", validate } }) as never;
    const even = standard((v) =>
      typeof v === "number" && v % 2 === 0
        ? { value: v }
        : { issues: [{ message: "not even", path: [{ key: "n" }, 0] }] },
    );
    expect(check(even, 4)).toEqual({ success: true, data: 4 });
    expect(check(even, 3)).toMatchObject({ success: false, summary: "n.0: not even" });
    const later = standard(async (v) => ({ value: v }));
    expect(check(later, 1)).toMatchObject({
      success: false,
      summary: expect.stringContaining("validates asynchronously"),
    });
  });
});

describe("check: an unknown field is an issue at its own path", () => {
  const body = closedObject("a resume", {
    mode: z.optional(z.string()),
    inner: z.optional(closedObject("inner", { a: z.optional(z.string()) })),
  });

  it("names each unknown field, nested ones by their dotted path, with what the object takes", () => {
    const result = check(body, { mesage: "hi", modee: "x", inner: { b: 1 } });
    expect(result.success).toBe(false);
    expect(result.success ? [] : result.issues).toEqual([
      {
        path: "inner.b",
        message: 'unknown field "b"; inner takes a and nothing else',
      },
      {
        path: "mesage",
        message: 'unknown field "mesage"; a resume takes mode, inner and nothing else',
      },
      {
        path: "modee",
        message: 'unknown field "modee"; a resume takes mode, inner and nothing else',
      },
    ]);
  });

  it("an app's strict schema (zod's own message) is named by path too", () => {
    const result = check(classic.strictObject({ a: classic.string() }), { a: "x", b: 1 });
    expect(result.success ? [] : result.issues).toEqual([
      { path: "b", message: 'unknown field "b"' },
    ]);
  });
});
