/**
 * `npm run bench -- streams-breakdown`: where one append's time goes under `wrangler dev`.
 * Sequential requests, p50/p99 of 400 plus the CPU the server's workerd processes used per
 * request (from /proc), each on two paths of the same server: `wrangler dev`'s
 * port (its dev-only ProxyWorker in front) and the Worker's own workerd socket behind it.
 * Rows: the Worker alone, a DO round trip that writes nothing, a producer append the DO
 * rejects as duplicate (same code path, no write), and an accepted append (one
 * transactionSync). The floor row runs a Worker that answers 404 on bare `workerd` (the
 * binary wrangler ships), with no wrangler at all; the "ours on bare workerd" rows run our
 * Worker there (bare-workerd.ts), the fair figure for a deployed Worker.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startWranglerDev } from "../test/support/wrangler-dev.ts";
import { startBareWorkerd, workerdBinary } from "./bare-workerd.ts";
import { percentile } from "./streams-load.ts";
import { cpuMs, findWorkerSocket, workerdPids } from "./worker-socket.ts";

/** BENCH_DEV=0 skips the `wrangler dev` rows; BENCH_BEFORE=<checkout>/test/conformance adds its Worker on bare workerd. */
const withDev = process.env.BENCH_DEV !== "0";
const state = mkdtempSync(join(tmpdir(), "bench-breakdown-"));
const dev = withDev
  ? await startWranglerDev({
      cwd: join(import.meta.dirname, "..", "test", "conformance"),
      persistTo: state,
      snapshot: true,
    })
  : null;

/** Wall time per request, and the CPU the server's workerd processes spent per request. */
async function time(
  label: string,
  servers: readonly number[],
  op: (i: number) => Promise<Response>,
  n = 400,
): Promise<void> {
  for (let i = 0; i < 20; i++) await (await op(i)).arrayBuffer();
  const samples: number[] = [];
  const cpu = () => servers.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const cpuBefore = cpu();
  for (let i = 20; i < n + 20; i++) {
    const t0 = performance.now();
    await (await op(i)).arrayBuffer();
    samples.push(performance.now() - t0);
  }
  const cpuPerRequest = (cpu() - cpuBefore) / n;
  console.log(
    `| ${label} | ${percentile(samples, 50).toFixed(2)} | ${percentile(samples, 99).toFixed(2)} | ${cpuPerRequest.toFixed(2)} |`,
  );
}

/** A Worker that answers 404, on the workerd binary wrangler depends on. */
async function bareWorkerd(): Promise<{ baseUrl: string; pid: number; stop: () => void }> {
  const bin = workerdBinary();
  const dir = mkdtempSync(join(tmpdir(), "bench-workerd-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "worker.js"),
    'export default { fetch() { return new Response("nope", { status: 404 }); } };',
  );
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ]
);
const w :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.js") ],
  compatibilityDate = "2025-09-01"
);
`,
  );
  const child = spawn(bin, ["serve", join(dir, "config.capnp")], { stdio: "ignore" });
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(baseUrl);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    baseUrl,
    pid: child.pid ?? 0,
    stop: () => {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function appendPath(
  base: string,
  name: string,
  path: string,
  servers: readonly number[],
): Promise<void> {
  const url = `${base}${path}`;
  const producer = (seq: number) => ({
    "content-type": "text/plain",
    "producer-id": name,
    "producer-epoch": "0",
    "producer-seq": String(seq),
  });
  await fetch(url, { method: "POST", headers: producer(0), body: "x" });
  await time(`${name}: Worker only, no DO (404 route)`, servers, () => fetch(`${base}/`));
  await time(`${name}: HEAD through the stream DO (no write)`, servers, () =>
    fetch(url, { method: "HEAD" }),
  );
  await time(`${name}: duplicate producer append (no write)`, servers, () =>
    fetch(url, { method: "POST", headers: producer(0), body: "x".repeat(100) }),
  );
  await time(`${name}: accepted append (one transactionSync)`, servers, (i) =>
    fetch(url, { method: "POST", headers: producer(i + 1), body: "x".repeat(100) }),
  );
}

const bare = await bareWorkerd();
const ourBare = await startBareWorkerd({
  cwd: join(import.meta.dirname, "..", "test", "conformance"),
});
const beforeBare =
  process.env.BENCH_BEFORE === undefined
    ? null
    : await startBareWorkerd({ cwd: process.env.BENCH_BEFORE });
try {
  const path = `/v1/stream/breakdown-${Date.now()}`;
  const create = (base: string) =>
    fetch(`${base}${path}`, { method: "PUT", headers: { "content-type": "text/plain" } });
  console.log("| request | p50 ms | p99 ms | server CPU ms per request |\n|---|---|---|---|");
  await time("bare workerd, no wrangler: Worker answers 404", [bare.pid], () =>
    fetch(`${bare.baseUrl}/`),
  );
  if (beforeBare !== null) {
    await create(beforeBare.baseUrl);
    await appendPath(beforeBare.baseUrl, "before, on bare workerd", path, [beforeBare.pid]);
  }
  await create(ourBare.baseUrl);
  await appendPath(ourBare.baseUrl, "ours on bare workerd", path, [ourBare.pid]);
  if (dev !== null) {
    await create(dev.baseUrl);
    const direct = await findWorkerSocket(dev.pid, dev.baseUrl, async (base) => {
      const response = await fetch(`${base}${path}`, { method: "HEAD" });
      return response.status === 200 && response.headers.has("stream-next-offset");
    });
    const servers = workerdPids(dev.pid);
    await appendPath(dev.baseUrl, "wrangler dev port", path, servers);
    if (direct === null) console.log("(the Worker's own socket was not found; rows skipped)");
    else await appendPath(direct, "Worker socket", path, servers);
  }
} finally {
  bare.stop();
  ourBare.stop();
  beforeBare?.stop();
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
}
