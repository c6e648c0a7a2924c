/**
 * `npm run bench -- streams-profile`: where the CPU of one append goes, on bare workerd.
 * One writer sends 100 B appends back to back to one stream of our Worker (bare-workerd.ts,
 * V8 with `--perf-basic-prof` so JS frames have names); `perf record -e cpu-clock -g` samples
 * the workerd process meanwhile, and each sample is put in the first category whose frames
 * match (CATEGORIES, in order). A category's µs = its share of the samples × the CPU per
 * append that /proc gave for the same appends. Needs Linux `perf`.
 * Env: BENCH_APPENDS (default 3000); BENCH_BEFORE=<checkout>/test/conformance profiles that
 * Worker too, in the same run, as a "before" column.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBareWorkerd } from "./bare-workerd.ts";
import { cpuMs } from "./worker-socket.ts";

const APPENDS = Number(process.env.BENCH_APPENDS ?? 3000);

/** First match wins, tested against the whole stack (frames joined by newlines). */
const CATEGORIES: [string, RegExp][] = [
  ["the commit: WAL write + fsync of the object's SQLite, after the turn", /startImplicitTxnImpl/],
  ["our SQL statements inside transactionSync", /transactionSync/],
  ["SQL reads", /sqlite3_|SqliteDatabase/],
  [
    "garbage collection",
    /Heap::|cppgc::internal::(Marker|Sweeper)|Scavenge|MarkCompact|GarbageCollect|ConcurrentMarking|JobTaskWrapper/,
  ],
  [
    "reading the request body",
    /JS:\W*readBytes|ReadableStreamInternalController::read|ReaderImpl::read/,
  ],
  [
    "the Worker→object call itself (Fetcher::fetch or JS RPC, both ends)",
    /Fetcher::fetch|JsRpcPromise|JsRpcProperty|JsRpcStub|Serializ|Deserializ/,
  ],
];
/** Our functions that run in the object; any other JS on a stack is the Worker's. */
const OBJECT_JS =
  /JS:\W*(applyAppends|decide|handleAppend|handleStreamRequest|append |appendTo|run |commitAppend|toRpcResult|context|expireIfDue)/;
const NETWORK =
  /tcp_|sock_|inet_|epoll|recvfrom|writev|sendmsg|hyper::|kj_hyper::|HttpServer|http::header|<http::|listen_http|serve_connection|futures_unordered|tokio::runtime::io|tokio::sync/;
/** Frames at the root of every stack (the event loop), left out of the network match. */
const ROOT = /blockOn|block_on|run_pending_command|with_process_context|entry::serve/;

function categorize(stack: string[]): string {
  const text = stack.join("\n");
  for (const [name, pattern] of CATEGORIES) if (pattern.test(text)) return name;
  const js = stack.filter((frame) => frame.startsWith("JS:"));
  if (js.length > 0)
    return OBJECT_JS.test(`${js.join("\n")} `)
      ? "our JS in the object (decide, group commit, handler)"
      : "our JS in the Worker (route, auth, response)";
  if (NETWORK.test(stack.filter((frame) => !ROOT.test(frame)).join("\n")))
    return "HTTP parsing and the kernel's socket work";
  return "workerd's event machinery (request contexts, locks, microtasks, V8 wrappers)";
}

/** `perf script` output → one array of frame names per sample, leaf first. */
function stacks(script: string): string[][] {
  return script
    .split("\n\n")
    .map((block) =>
      block
        .split("\n")
        .filter((line) => /^\s/.test(line))
        .map((line) =>
          line
            .trim()
            .replace(/^[0-9a-f]+ /, "")
            .replace(/\+0x[0-9a-f]+.*$/, ""),
        ),
    )
    .filter((stack) => stack.length > 0);
}

interface Profile {
  readonly cpuMsPerAppend: number;
  readonly shares: Map<string, number>;
  readonly samples: number;
}

async function profile(cwd: string): Promise<Profile> {
  const server = await startBareWorkerd({ cwd, v8Flags: ["--perf-basic-prof"] });
  const dir = mkdtempSync(join(tmpdir(), "bench-profile-"));
  try {
    const url = `${server.baseUrl}/v1/stream/profile-${Date.now()}`;
    await fetch(url, { method: "PUT", headers: { "content-type": "text/plain" } });
    const append = async () => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "x".repeat(100),
      });
      await response.arrayBuffer();
      if (response.status !== 204) throw new Error(`append → ${response.status}`);
    };
    for (let i = 0; i < 200; i++) await append();
    const data = join(dir, "perf.data");
    const perf = spawn(
      "perf",
      ["record", "-e", "cpu-clock", "-F", "4000", "-g", "-p", String(server.pid), "-o", data],
      { stdio: "ignore" },
    );
    await new Promise((r) => setTimeout(r, 500));
    const before = cpuMs(server.pid);
    for (let i = 0; i < APPENDS; i++) await append();
    const cpuMsPerAppend = (cpuMs(server.pid) - before) / APPENDS;
    perf.kill("SIGINT");
    await new Promise((r) => perf.once("exit", r));
    const script = spawnSync("perf", ["script", "-i", data], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    }).stdout;
    const all = stacks(script);
    const shares = new Map<string, number>();
    for (const stack of all) {
      const name = categorize(stack);
      shares.set(name, (shares.get(name) ?? 0) + 1);
    }
    for (const [name, n] of shares) shares.set(name, n / all.length);
    return { cpuMsPerAppend, shares, samples: all.length };
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (spawnSync("perf", ["--version"]).status !== 0) {
  console.error("streams-profile needs Linux perf (apt-get install linux-perf)");
  process.exit(2);
}
const columns: [string, Profile][] = [];
if (process.env.BENCH_BEFORE !== undefined)
  columns.push(["before", await profile(process.env.BENCH_BEFORE)]);
columns.push(["ours", await profile(join(import.meta.dirname, "..", "test", "conformance"))]);
const names = [...new Set(columns.flatMap(([, p]) => [...p.shares.keys()]))].sort(
  (a, b) => (columns.at(-1)?.[1].shares.get(b) ?? 0) - (columns.at(-1)?.[1].shares.get(a) ?? 0),
);
const cell = (p: Profile, name: string): string => {
  const share = p.shares.get(name) ?? 0;
  return `${(share * p.cpuMsPerAppend * 1000).toFixed(0)} (${(share * 100).toFixed(0)}%)`;
};
console.log(
  `| where | ${columns.map(([label, p]) => `${label} µs per append (${p.samples} samples)`).join(" | ")} |`,
);
console.log(`|---|${columns.map(() => "---").join("|")}|`);
for (const name of names)
  console.log(`| ${name} | ${columns.map(([, p]) => cell(p, name)).join(" | ")} |`);
console.log(
  `| total CPU per append | ${columns.map(([, p]) => (p.cpuMsPerAppend * 1000).toFixed(0)).join(" | ")} |`,
);
