/**
 * `npm run bench -- memory`: memory per Durable Object touched under `wrangler dev`, ours
 * against a bare SQLite object in the same Worker (bench/memory/worker.ts), to tell what the
 * runtime keeps per object from what our code keeps.
 *
 * For each kind, N fresh objects are touched (10 at a time): a bare object (create a table,
 * insert a row), our session object read once (GET status: the runtime is built), and our
 * session object after one quickstart-sized run. After each kind: the workerd processes'
 * resident memory (VmRSS from /proc) and the Worker isolate's JS heap after a full garbage
 * collection (Chrome DevTools protocol on wrangler's inspector port:
 * Runtime.getHeapUsage after HeapProfiler.takeHeapSnapshot, which collects first). The JS heap holds everything our code keeps (every object of one
 * Worker shares one isolate locally); the rest of the growth is the runtime's (native: the
 * object, its SQLite connection and page cache). Then all sit idle for IDLE seconds and are
 * measured again.
 * Env: BENCH_OBJECTS (default 100), BENCH_IDLE_S (default 150).
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { startWranglerDev } from "../test/support/wrangler-dev.ts";
import { type CdpCall, connectInspector } from "./cpu-profile.ts";
import { workerdPids } from "./worker-socket.ts";

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 100);
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 150);

const dev = await startWranglerDev({ cwd: join(import.meta.dirname, "memory"), snapshot: true });

function rssMiB(): number {
  let kib = 0;
  for (const pid of workerdPids(dev.pid)) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    kib += Number(match?.[1] ?? 0);
  }
  return kib / 1024;
}

/** A Chrome DevTools protocol session on the Worker's isolate (wrangler's inspector proxy). */
async function inspector(): Promise<CdpCall> {
  const cmdline = readFileSync(`/proc/${dev.pid}/cmdline`, "utf8").split("\0");
  const port = cmdline[cmdline.indexOf("--inspector-port") + 1];
  return (await connectInspector(`http://127.0.0.1:${port}`)).call;
}

let cdp: Awaited<ReturnType<typeof inspector>> = () => Promise.reject(new Error("no inspector"));
async function heapMiB(): Promise<number> {
  // A heap snapshot runs a full GC first (workerd does not answer HeapProfiler.collectGarbage).
  await cdp("HeapProfiler.takeHeapSnapshot");
  const usage = (await cdp("Runtime.getHeapUsage")) as { usedSize: number };
  return usage.usedSize / 2 ** 20;
}

async function touch(kind: "bare" | "read" | "run", name: string): Promise<void> {
  const base = `${dev.baseUrl}/agents/mem/${name}`;
  if (kind === "bare") {
    const response = await fetch(`${dev.baseUrl}/bare/${name}`);
    if (!response.ok) throw new Error(`bare: ${response.status}`);
    return;
  }
  if (kind === "run") {
    const started = await fetch(`${base}/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { message: "What is 2+3?" } }),
    });
    if (started.status !== 202) throw new Error(`run: ${started.status}`);
  }
  for (;;) {
    const status = (await (await fetch(`${base}/status`)).json()) as { status: string };
    if (kind === "read" || status.status === "completed") return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Point {
  label: string;
  rss: number;
  heap: number;
}

try {
  cdp = await inspector();
  const points: Point[] = [{ label: "start", rss: rssMiB(), heap: await heapMiB() }];
  const kinds = [
    ["bare", "bare SQLite object (no durable-agents code)"],
    ["read", "our session object, read once (GET status)"],
    ["run", "our session object after one run"],
  ] as const;
  for (const [kind, label] of kinds) {
    for (let i = 0; i < OBJECTS; i += 10)
      await Promise.all(
        Array.from({ length: Math.min(10, OBJECTS - i) }, (_, j) =>
          touch(kind, `${kind}-${i + j}-${Date.now()}`),
        ),
      );
    points.push({ label, rss: rssMiB(), heap: await heapMiB() });
  }
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  points.push({ label: `all idle ${IDLE_S} s`, rss: rssMiB(), heap: await heapMiB() });

  console.log(
    `memory: ${cpus().length} vCPU ${cpus()[0]?.model ?? ""}, Node ${process.version}, wrangler dev (local workerd), ${OBJECTS} objects per row\n`,
  );
  console.log(
    "| after | workerd RSS (MiB) | JS heap after GC (MiB) | RSS per object (KiB) | JS heap per object (KiB) |",
  );
  console.log(
    "| ----- | ----------------- | ---------------------- | -------------------- | ------------------------ |",
  );
  for (const [i, p] of points.entries()) {
    const prev = points[i - 1];
    const per = (now: number, before: number) =>
      prev && i <= kinds.length ? (((now - before) * 1024) / OBJECTS).toFixed(0) : "-";
    console.log(
      `| ${p.label} | ${p.rss.toFixed(1)} | ${p.heap.toFixed(2)} | ${per(p.rss, prev?.rss ?? 0)} | ${per(p.heap, prev?.heap ?? 0)} |`,
    );
  }
} finally {
  await dev.stop();
}
