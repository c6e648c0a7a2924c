import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SESSION_COMMANDS } from "./session-commands.ts";

const PACKAGES = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Calls that change a session: SessionRuntime's mutating methods, the state's
 * compare-and-set, a schedule's cancel, and a raw ledger append; also the runtime's resume and
 * retry of parsed input (`[parsedInput]`). Only the command layer (and the runtime's own
 * internals) may make them; a transport only parses into it.
 */
const MUTATION =
  /\b(?:runtime(?:\(\))?|session)\s*\.\s*(?:start|interrupt|abort|resume|retry|close|schedule)\s*\(|\[\s*parsedInput\s*\]\s*\.\s*(?:resume|retry)\s*\(|\.state\s*\.\s*compareAndSet\s*\(|\.schedules\s*\.\s*cancel\s*\(|\.projections\s*\.\s*rebuild\s*\(|\bruntime(?:\(\))?\s*\.\s*ledger\s*\.\s*append\s*\(/g;

/** The transports: every file that receives a request, a frame or an RPC from outside. */
const SURFACES = [
  "core/src/http",
  "core/src/wire",
  "core/src/streams",
  "core/src/mcp",
  "cloudflare/src",
];

/**
 * The files that may hold the runtime's key for input already parsed (`parsedInput`): the
 * runtime that defines the entry and the two doors that parse before they call it. Any other
 * importer could reach resume, retry or canResume with input no schema checked, under any
 * alias, so the import itself is what is refused.
 */
const PARSED_INPUT_USERS = [
  "core/src/agent/parsed-input.ts",
  "core/src/agent/session-runtime.ts",
  "core/src/commands/run-commands.ts",
  "core/src/store/store-call.ts",
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The mutating calls in `text`, as `file: call`. */
export function mutations(file: string, text: string): string[] {
  return [...text.matchAll(MUTATION)].map((m) => `${file}: ${m[0]}`);
}

describe("one door: nothing but the command layer reaches a session's mutating methods", () => {
  it("no transport calls them", () => {
    const found = SURFACES.flatMap((dir) =>
      sources(join(PACKAGES, dir)).flatMap((path) =>
        mutations(relative(PACKAGES, path), readFileSync(path, "utf8")),
      ),
    );
    expect(found).toEqual([]);
  });

  it("the scan sees the calls a transport would make (it can fail)", () => {
    const before = [
      "const started = await runtime.start(body.input);",
      "return runtime.resume(command.request as ResumeRequest);",
      "const { version } = runtime.state.compareAndSet(body.state, 1);",
      "if (!runtime.schedules.cancel(key)) {",
      "return Response.json(runtime.projections.rebuild(name));",
      "const [event] = runtime.ledger.append([{ kind }]);",
      "await ctx.runtime.start({ message });",
      "return ctx.runtime().interrupt(reason);",
      "await call.runtime[parsedInput].resume(body);",
    ];
    expect(before.flatMap((line) => mutations("x.ts", line))).toHaveLength(before.length);
    expect(mutations("x.ts", "ws.close(1000); reader.cancel(); ledger.read(0, 1)")).toEqual([]);
  });

  it("only the runtime and the doors that parse first hold the key to the parsed-input entry", () => {
    const holders = ["core/src", "cloudflare/src"].flatMap((dir) =>
      sources(join(PACKAGES, dir))
        .filter((path) => /\bparsedInput\b|parsed-input/.test(readFileSync(path, "utf8")))
        .map((path) => relative(PACKAGES, path)),
    );
    expect(holders.sort()).toEqual([...PARSED_INPUT_USERS].sort());
  });

  it("every command that runs through it is declared with a scope and an input schema", () => {
    for (const [name, command] of Object.entries(SESSION_COMMANDS)) {
      expect(command.name).toBe(name);
      expect(["read", "write", "admin"]).toContain(command.scope);
      expect(typeof command.input["~standard"].validate).toBe("function");
    }
  });
});
