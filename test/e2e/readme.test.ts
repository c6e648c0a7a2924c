/**
 * The README's agent example is real code: each block marked `<!-- file: PATH -->`
 * must equal that file (which `npm run check` type-checks), and the agent runs.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createTestSession } from "@durable-agents/core/testing";
import { describe, expect, it } from "vitest";
import { assistant } from "../../examples/readme/src/agent.ts";
import { noKeyModel } from "../../examples/readme/src/no-key-model.ts";
import { COMMON_OPTIONS } from "../../packages/client/src/cli/args.ts";

const root = resolve(import.meta.dirname, "../..");
const readme = readFileSync(resolve(root, "README.md"), "utf8");
const blocks = [...readme.matchAll(/<!-- file: (\S+) -->\s*```\w*\n([\s\S]*?)```/g)].map(
  ([, path, code]) => ({ path: path ?? "", code: code ?? "" }),
);

describe("README", () => {
  it("shows the example files", () => {
    expect(blocks.map((b) => b.path)).toEqual([
      "examples/readme/src/agent.ts",
      "examples/readme/src/worker.ts",
      "examples/readme/wrangler.jsonc",
      "examples/readme/src/no-key-model.ts",
    ]);
  });

  it("says how the CLI sends a token, with the CLI's own option and variable", () => {
    // The CLI takes a token (docs/client.md#tokens); the README once said it sends none.
    expect(COMMON_OPTIONS.token.description).toContain("$DURABLE_AGENTS_TOKEN");
    expect(readme).toContain("`--token <token>` or\n`DURABLE_AGENTS_TOKEN`");
    expect(readme).not.toMatch(/The CLI sends no token/);
  });

  it("asks for the Node the repo runs wrangler with, for your own Worker", () => {
    // create-cloudflare installs the latest wrangler 4, which stops below Node 22.12.0; the
    // repo's own Node (devDependencies.node) is the floor the README names.
    const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
      devDependencies: { node: string };
    };
    const floor = pkg.devDependencies.node.replace(/^\^/, "");
    expect(floor).toMatch(/^\d+\.\d+\.\d+$/);
    const [major, minor] = floor.split(".");
    expect(readme).toContain(`This part needs Node ${major}.${minor} or later`);
    expect(readme).toContain(`at\nleast Node.js v${floor}`);
  });

  it("each package's README installs from `npm pack` tarballs, and names the Node its engines declare", () => {
    // Not on the registry yet: a package README (the one a tarball ships) must not send
    // readers to `npm install @durable-agents/...`, which 404s. The Worker's package asks for
    // the Node wrangler needs, the floor this README names.
    const pack =
      "`npm pack -w @durable-agents/core -w @durable-agents/cloudflare -w @durable-agents/client`";
    const oneLine = (text: string) => text.replace(/\s+/g, " ");
    expect(oneLine(readme)).toContain(pack);
    const floor = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")).devDependencies
      .node as string;
    const [major, minor] = floor.replace(/^\^/, "").split(".");
    for (const name of ["core", "cloudflare", "client"]) {
      const dir = resolve(root, "packages", name);
      const text = readFileSync(resolve(dir, "README.md"), "utf8");
      const pkg = JSON.parse(readFileSync(resolve(dir, "package.json"), "utf8")) as {
        engines: { node: string };
      };
      expect(oneLine(text), name).toContain(pack);
      expect(text, name).not.toMatch(/^npm install @durable-agents\//m);
      expect(pkg.engines.node, name).toMatch(/^>=\d+(\.\d+)?$/);
      expect(oneLine(text), name).toContain(`Node ${pkg.engines.node.slice(2)} or later`);
      if (name === "cloudflare") expect(pkg.engines.node).toBe(`>=${major}.${minor}`);
    }
  });

  it("npm install in a fresh clone leaves package-lock.json as committed: each workspace's entry is its package.json", () => {
    // npm rewrites a workspace's lock entry from its package.json; a stale one shows up as a
    // changed file after the README's first command (it did when the engines changed).
    const lock = JSON.parse(readFileSync(resolve(root, "package-lock.json"), "utf8")) as {
      packages: Record<string, Record<string, unknown>>;
    };
    const workspaces = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8"))
      .workspaces as string[];
    const fields = ["version", "engines", "dependencies", "peerDependencies"] as const;
    for (const dir of Object.keys(lock.packages).filter((path) =>
      workspaces.some((w) => path === w || (w.endsWith("/*") && path.startsWith(w.slice(0, -1)))),
    )) {
      const pkg = JSON.parse(readFileSync(resolve(root, dir, "package.json"), "utf8"));
      for (const field of fields)
        expect(lock.packages[dir]?.[field], `${dir} ${field}`).toEqual(pkg[field]);
    }
  });

  for (const block of blocks)
    it(`${block.path} matches the README`, () => {
      expect(block.code).toBe(readFileSync(resolve(root, block.path), "utf8"));
    });

  it("the example agent runs its tool with the README's no-key model in place of OpenAI", async () => {
    const session = createTestSession({ ...assistant, model: noKeyModel });
    await session.runtime.start({ message: "100 °C in Fahrenheit?" });
    await session.drain();
    const events = session.runtime.ledger.read(0);
    expect(events.find((e) => e.kind === "tool.completed")?.data).toMatchObject({
      result: { fahrenheit: 212 },
    });
    expect(events.at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "That is 212 °F." },
    });
    await session.runtime.start({ message: "And -40 °C?" });
    await session.drain();
    expect(session.runtime.ledger.read(0).at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "That is -40 °F." },
    });
  });
});
