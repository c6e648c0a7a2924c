/** The CLI's own surface: help generated from each command's options, --version, typos. */
import { readFileSync } from "node:fs";
import { ProjectionNeedsRebuildError } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { reminder } from "../../../examples/quickstart/src/triggers.ts";
import { inCliTerms } from "../src/cli/advice.ts";
import { COMMON_OPTIONS } from "../src/cli/args.ts";
import { schedules } from "../src/cli/commands/views.ts";
import { main } from "../src/cli/main.ts";
import { calculatorAgent } from "./agents.ts";
import { start } from "./support.ts";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, {
    env: {},
    color: false,
    signal: new AbortController().signal,
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
  });
  return { code, out, err };
}

/** The command names `--help` lists. */
async function listedCommands(): Promise<string[]> {
  const { out } = await run(["--help"]);
  const block = out.split("Commands:\n")[1]?.split("\n\n")[0] ?? "";
  return block.split("\n").map((line) => line.trim().split(/\s+/)[0] as string);
}

describe("durable-agents --token", () => {
  it("is a common option whose help names DURABLE_AGENTS_TOKEN; an empty one is a usage error", async () => {
    const { out } = await run(["--help"]);
    expect(out).toMatch(/--token <token> +a session token .*\$DURABLE_AGENTS_TOKEN/s);
    const empty = await run(["status", "assistant/s1", "--token", " "]);
    expect(empty.code).toBe(2);
    expect(empty.err).toContain("error: --token is empty");
  });
});

describe("durable-agents help", () => {
  it("every command's --help lists every option its parser accepts, aligned, plus the common ones", async () => {
    for (const name of await listedCommands()) {
      const { code, out } = await run([name, "--help"]);
      expect(code, name).toBe(0);
      expect(out, name).toMatch(new RegExp(`^Usage: durable-agents ${name} `));
      const optionLines = (out.split("Options:\n")[1]?.split("\n\n")[0] ?? "")
        .split("\n")
        .filter((line) => /^ {2}(-\w, )?--/.test(line));
      const flags = optionLines.map((line) => /--([\w-]+)/.exec(line)?.[1]);
      for (const common of Object.keys(COMMON_OPTIONS)) expect(flags, name).toContain(common);
      // Aligned: every description starts in the same column.
      const columns = new Set(
        optionLines.map((line) => /^ {2}.+? {2,}(?=\S)/.exec(line)?.[0].length),
      );
      expect(columns.size, `${name}: ${[...columns].join(",")}`).toBe(1);
      // Every option the parser accepts is listed: an unknown one is refused, a listed one is not.
      for (const flag of flags) {
        const parsed = await run([name, `--${flag}`, "--help"]);
        expect(parsed.err, `${name} --${flag}`).not.toContain("unknown option");
      }
    }
  });

  it("docs/client.md's command table lists exactly the commands --help lists", async () => {
    const doc = readFileSync(new URL("../../../docs/client.md", import.meta.url), "utf8");
    const table = doc.split("## CLI")[1]?.split("Exit status:")[0] ?? "";
    const documented = new Set<string>();
    for (const row of table.split("\n").filter((line) => line.startsWith("| `"))) {
      const firstColumn = row.split(" | ")[0] ?? "";
      for (const match of firstColumn.matchAll(/`([a-z]+)/g)) documented.add(match[1] as string);
    }
    expect([...documented].sort()).toEqual((await listedCommands()).sort());
  });

  it("tail --help lists --url (it did not)", async () => {
    const { out } = await run(["tail", "--help"]);
    expect(out).toContain("--url <url>");
    expect(out).toContain("--transport <t>");
  });

  it("--version prints the package version", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    for (const flag of ["--version", "-v", "version"]) {
      const { code, out } = await run([flag]);
      expect(code).toBe(0);
      expect(out).toBe(`durable-agents ${pkg.version}\n`);
    }
  });

  it("a mistyped option gets a plain message and the option meant, exit 2", async () => {
    const { code, err } = await run(["chat", "hi", "--sesion", "x"]);
    expect(code).toBe(2);
    expect(err).toContain("error: unknown option --sesion; did you mean --session?\n");
    expect(err).not.toContain("positional argument");
    expect(err).toContain("See: durable-agents chat --help");
  });

  it("an option without its value says so", async () => {
    const { code, err } = await run(["chat", "hi", "--session"]);
    expect(code).toBe(2);
    expect(err).toContain("error: --session needs a value");
  });

  it("a mistyped command gets the command meant; nonsense gets the list", async () => {
    const typo = await run(["stauts", "a/b"]);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('error: unknown command "stauts". Did you mean "status"?');
    const nonsense = await run(["frobnicate"]);
    expect(nonsense.code).toBe(2);
    expect(nonsense.err).not.toContain("Did you mean");
    expect(nonsense.err).toContain("Commands:");
  });
});

describe("durable-agents error advice", () => {
  it("names the CLI command where the server's message names an HTTP route", () => {
    expect(inCliTerms("session s1 has no run to resume; start one with POST .../runs")).toBe(
      'session s1 has no run to resume; start one with `durable-agents chat "<message>" --agent <agent> --session <session>`',
    );
    expect(inCliTerms("run r1 failed; use POST .../retry (from_checkpoint or from_start)")).toBe(
      "run r1 failed; use `durable-agents retry <agent>/<session> [--from-start]`",
    );
    expect(inCliTerms('no checkpoint "9"; list them with GET .../checkpoints')).toBe(
      'no checkpoint "9"; list them with `durable-agents checkpoints <agent>/<session>`',
    );
    expect(
      inCliTerms(
        'run r1 failed; run it again with POST .../retry (from_checkpoint or from_start), or from Worker code: handle.resume({ mode: "from_checkpoint", checkpoint })',
      ),
    ).toBe(
      "run r1 failed; run it again with `durable-agents retry <agent>/<session> [--from-start]`",
    );
    expect(inCliTerms("no such thing")).toBe("no such thing");
  });

  it("names the session the user typed, not a placeholder, in the advice of a refused resume", async () => {
    const server = await start({ agents: [calculatorAgent("helper")] });
    try {
      const chat = await run([
        "chat",
        "2+3",
        "--agent",
        "helper",
        "--session",
        "t1",
        "--url",
        server.url,
      ]);
      expect(chat.code).toBe(0);
      const resumed = await run(["resume", "helper/t1", "--no-follow", "--url", server.url]);
      expect(resumed.code).toBe(1);
      expect(resumed.err).toContain(
        'start a new run with `durable-agents chat "<message>" --agent helper --session t1` (run_not_resumable, HTTP 409)',
      );
      expect(resumed.err).not.toContain("<id>");
    } finally {
      await server.close();
    }
  });

  it("fills in the target it is given; without one, names placeholders the user can fill in", () => {
    const target = { agent: "helper", session: "t1" };
    expect(
      inCliTerms("run r1 failed; use POST .../retry (from_checkpoint or from_start)", target),
    ).toBe("run r1 failed; use `durable-agents retry helper/t1 [--from-start]`");
    expect(inCliTerms("run r1 waits; use POST .../resume", target)).toBe(
      "run r1 waits; use `durable-agents resume helper/t1`",
    );
    expect(inCliTerms('no checkpoint "9"; list them with GET .../checkpoints', target)).toBe(
      'no checkpoint "9"; list them with `durable-agents checkpoints helper/t1`',
    );
    // A session id with `$` in it is text, not a replacement pattern.
    expect(inCliTerms("start one with POST .../runs", { agent: "a", session: "x$1$&" })).toBe(
      'start one with `durable-agents chat "<message>" --agent a --session x$1$&`',
    );
  });

  it("names `projections <agent>/<session> --rebuild <name>` for the server's 409 projection_needs_rebuild", () => {
    const { message } = new ProjectionNeedsRebuildError({
      name: "pings",
      version: 3,
      storedVersion: 2,
      status: "needs_rebuild",
    });
    expect(message).toContain('POST .../projections {"rebuild":"pings"}');
    const cli = inCliTerms(message);
    expect(cli).toContain("`durable-agents projections <agent>/<session> --rebuild pings`");
    expect(cli).not.toContain("<agent> <session>");
    expect(cli).not.toContain("POST");
  });
});

/** Splits an example command line into words, as a POSIX shell would for these quotes. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

describe("durable-agents schedules against the quickstart's trigger", () => {
  it("every --add example in --help is accepted by the quickstart's reminder kind", async () => {
    const server = await start({ agents: [calculatorAgent("assistant")], triggers: [reminder] });
    try {
      const adds = (schedules.examples ?? []).filter((e) => e.includes("--add"));
      expect(adds.length).toBeGreaterThan(1);
      for (const example of adds) {
        const result = await run([...words(example), "--url", server.url]);
        expect({ example, err: result.err, code: result.code }).toEqual({
          example,
          err: "",
          code: 0,
        });
      }
    } finally {
      await server.close();
    }
  });

  it("--time-zone sends the cron schedule's timeZone; the list shows it", async () => {
    const server = await start({ agents: [calculatorAgent("assistant")], triggers: [reminder] });
    try {
      const added = await run([
        ...words(
          'schedules assistant/tz --add reminder --cron "0 9 * * *" --time-zone Europe/Paris --key paris --payload \'{"message":"hi"}\'',
        ),
        "--url",
        server.url,
      ]);
      expect(added).toMatchObject({ code: 0, err: "" });
      const body = server.requests.find((r) => r.method === "POST")?.body;
      expect(body).toMatchObject({ cron: "0 9 * * *", timeZone: "Europe/Paris", key: "paris" });
      const listed = await run(["schedules", "assistant/tz", "--url", server.url]);
      expect(listed.out).toContain("cron 0 9 * * * (Europe/Paris)");
      const bad = await run([
        ...words(
          'schedules assistant/tz --add reminder --cron "0 9 * * *" --time-zone Mars/Base --payload \'{"message":"hi"}\'',
        ),
        "--url",
        server.url,
      ]);
      expect(bad.code).not.toBe(0);
      expect(bad.err).toContain("Mars/Base");
    } finally {
      await server.close();
    }
  });
});
