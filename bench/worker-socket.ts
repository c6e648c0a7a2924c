/**
 * Find the Worker's own workerd socket behind `wrangler dev` (Linux only).
 *
 * `wrangler dev` runs two workerd processes: one holds wrangler's ProxyWorker, which listens
 * on `--port` and forwards each request (through a Durable Object of its own) to the second,
 * which runs our Worker. The second one's entry socket is on a random port that wrangler does
 * not print. The benches measure both paths so the table can say what the dev-only proxy
 * costs: this scans the listening TCP sockets of the workerd processes in wrangler's process
 * group and keeps the one that answers `isOurs`.
 * @example
 * const direct = await findWorkerSocket(dev.pid, dev.baseUrl, async (base) =>
 *   (await fetch(`${base}/v1/stream/known`, { method: "HEAD" })).status === 200);
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export async function findWorkerSocket(
  processGroup: number,
  proxyUrl: string,
  isOurs: (baseUrl: string) => Promise<boolean>,
): Promise<string | null> {
  const proxyPort = Number(new URL(proxyUrl).port);
  for (const port of listeningPorts(workerdPids(processGroup))) {
    if (port === proxyPort) continue;
    const base = `http://127.0.0.1:${port}`;
    try {
      if (await isOurs(base)) return base;
    } catch {}
  }
  return null;
}

/** The workerd processes in a process group (wrangler dev runs two). */
export function workerdPids(processGroup: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (comm === "workerd" && Number(fields[2]) === processGroup) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

function listeningPorts(pids: number[]): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1] !== undefined) inodes.add(match[1]);
      }
    } catch {}
  }
  const ports: number[] = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    const [local, state, inode] = [cols[1], cols[3], cols[9]];
    if (state !== "0A" || local === undefined || inode === undefined || !inodes.has(inode))
      continue;
    ports.push(Number.parseInt(local.split(":")[1] ?? "0", 16));
  }
  return ports;
}

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Linux reports /proc times in USER_HZ, which is 100 on every mainstream architecture. */
const CLOCK_TICKS = 100;
