/** Helpers for the end-to-end tier: the quickstart under `wrangler dev`, the CLI, the ledger. */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { applyIndexMigrations as migrateIndexShards } from "../../scripts/index-migrations.mjs";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.ts";

export const QUICKSTART = resolve(import.meta.dirname, "../../examples/quickstart");
const CLI = resolve(import.meta.dirname, "../../packages/client/bin/durable-agents.mjs");

export interface LedgerEvent {
  seq: number;
  runId: string;
  kind: string;
  data: Record<string, unknown>;
  offset: string;
}

export function tempState(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `durable-agents-${prefix}-`));
}

/**
 * The quickstart on a free port, its state in `persistTo`, with its D1 index migrated first
 * (as `npm start` does).
 */
export function startQuickstart(
  persistTo: string,
  vars: Record<string, string> = {},
): Promise<WranglerDev> {
  applyIndexMigrations(persistTo);
  return startWranglerDev({
    cwd: QUICKSTART,
    persistTo,
    vars,
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
}

/** The quickstart's D1 index, every shard of it, migrated in `persistTo` (scripts/index-migrations.mjs). */
export function applyIndexMigrations(persistTo: string): void {
  migrateIndexShards({ cwd: QUICKSTART, args: ["--persist-to", persistTo] });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `durable-agents` CLI as a child process, as a user would, with `env` added. */
export function runCli(
  args: string[],
  timeoutMs = 60_000,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((done, fail) => {
    const { DURABLE_AGENTS_TOKEN: _, ...base } = process.env;
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...base, NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(
        new Error(`CLI timed out after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`),
      );
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function startRun(baseUrl: string, session: string, message: string): Promise<void> {
  const response = await fetch(`${baseUrl}/agents/assistant/${session}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: { message } }),
  });
  if (!response.ok) throw new Error(`start: ${response.status} ${await response.text()}`);
}

export function readLedger(baseUrl: string, session: string): Promise<LedgerEvent[]> {
  return getJson<LedgerEvent[]>(`${baseUrl}/agents/assistant/${session}/events?offset=-1`);
}

/** Polls the ledger until `predicate` holds, or fails with what it saw last. */
export async function waitForLedger(
  baseUrl: string,
  session: string,
  predicate: (events: LedgerEvent[]) => boolean,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<LedgerEvent[]> {
  const deadline = Date.now() + timeoutMs;
  let events: LedgerEvent[] = [];
  while (Date.now() < deadline) {
    events = await readLedger(baseUrl, session).catch(() => events);
    if (predicate(events)) return events;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `ledger of ${session} did not reach the expected state in ${timeoutMs} ms; last kinds: ${events.map((e) => e.kind).join(", ")}`,
  );
}

export const isTerminal = (event: LedgerEvent): boolean =>
  ["run.completed", "run.failed", "run.aborted", "run.interrupted"].includes(event.kind);
