/**
 * The Durable Streams reference server (@durable-streams/server) in a process of its own, so
 * the load generator's own work does not share its event loop (the streams bench once ran it
 * in-process, which was unfair in both directions). Run as a script it serves and prints its
 * URL on a line of its own; `startReferenceServer` spawns it and waits for that line.
 * @example
 * const ref = await startReferenceServer({ fileBacked: true });
 * try { await runLoad(ref.baseUrl, options) } finally { ref.stop() }
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DurableStreamTestServer } from "@durable-streams/server";

/** The line the child prints its URL on (the file-backed store logs to stdout too). */
const URL_LINE = "reference-server-url";

export interface ReferenceServer {
  readonly baseUrl: string;
  readonly pid: number;
  stop(): void;
}

export async function startReferenceServer(options: {
  readonly fileBacked: boolean;
}): Promise<ReferenceServer> {
  const dataDir = options.fileBacked ? mkdtempSync(join(tmpdir(), "bench-ref-")) : "";
  const child = spawn(
    process.execPath,
    ["--experimental-strip-types", "--no-warnings", import.meta.filename, dataDir],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const stop = (): void => {
    child.kill("SIGTERM");
    if (dataDir !== "") rmSync(dataDir, { recursive: true, force: true });
  };
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (data: Buffer) => {
      out += data.toString();
      const match = new RegExp(`^${URL_LINE} (\\S+)$`, "m").exec(out);
      if (match?.[1] !== undefined) resolve(match[1].replace(/\/$/, ""));
    });
    child.once("exit", (code) => reject(new Error(`the reference server exited (${code})`)));
  }).catch((error: unknown) => {
    stop();
    throw error;
  });
  return { baseUrl, pid: child.pid ?? 0, stop };
}

if (process.argv[1] === import.meta.filename) {
  const dataDir = process.argv[2] ?? "";
  const server = new DurableStreamTestServer({
    port: 0,
    host: "127.0.0.1",
    longPollTimeout: 20_000,
    compression: false,
    ...(dataDir !== "" ? { dataDir } : {}),
  });
  process.stdout.write(`${URL_LINE} ${await server.start()}\n`);
  process.on("SIGTERM", () => {
    void server.stop().then(() => process.exit(0));
  });
}
