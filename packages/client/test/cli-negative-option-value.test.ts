/**
 * An option value that is a negative number (`tail --offset -1`, docs/client.md): node:util
 * parseArgs refuses `--offset -1` as ambiguous (only `--offset=-1` passed); first pinned by the
 * outside review.
 */
import { describe, expect, it } from "vitest";
import { parse, UsageError } from "../src/cli/args.ts";
import { state } from "../src/cli/commands/state.ts";
import { tail } from "../src/cli/commands/tail.ts";

describe("CLI: an option value that is a negative number", () => {
  it("tail --offset -1 is read as the value -1 (docs/client.md, tail)", () => {
    const { values, positionals } = parse(["assistant/s1", "--offset", "-1"], tail.options);
    expect(values.offset).toBe("-1");
    expect(positionals).toEqual(["assistant/s1"]);
  });

  it("holds for every option that takes a value, and for a decimal", () => {
    const { values } = parse(
      ["assistant/s1", "--set", "-2.5", "--expected-version", "-1"],
      state.options,
    );
    expect(values).toMatchObject({ set: "-2.5", "expected-version": "-1" });
  });

  it("a forgotten value is still refused, and nothing after -- is joined", () => {
    expect(() => parse(["assistant/s1", "--offset", "--json"], tail.options)).toThrow(UsageError);
    expect(() => parse(["assistant/s1", "--json", "-1"], tail.options)).toThrow(UsageError);
    const { values, positionals } = parse(
      ["--offset", "now", "--", "--offset", "-1"],
      tail.options,
    );
    expect(values.offset).toBe("now");
    expect(positionals).toEqual(["--offset", "-1"]);
  });
});
