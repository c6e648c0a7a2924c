// `npm test`: every vitest project (see vitest.config.ts), with vitest's usual output, then
// one plain closing line, "N passed, N failed[, N skipped]", read from its JSON report.
// Extra arguments go to vitest: `npm test -- --project core`.
//
// The crash tests abort Durable Objects on purpose (`ctx.abort("injected crash: ...")`), and
// fail Workflow steps on purpose (`Error("injected failure: ...")`); workerd logs each as an
// "uncaught exception" with a stack. Those lines (and only those: the error text starts
// with "injected ") are left out and counted in one line at the end; everything else vitest
// and workerd print passes through unchanged. `VERBOSE_WORKERD=1` keeps them.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const vitestBin = join(
  dirname(createRequire(import.meta.url).resolve("vitest/package.json")),
  "vitest.mjs",
);
let hiddenCrashLogs = 0;
const reportDir = mkdtempSync(join(tmpdir(), "durable-agents-test-"));
const report = join(reportDir, "vitest.json");

const code = await new Promise((done) => {
  const child = spawn(
    process.execPath,
    [
      vitestBin,
      "run",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${report}`,
      ...process.argv.slice(2),
    ],
    {
      stdio: process.env.VERBOSE_WORKERD ? "inherit" : ["inherit", "pipe", "pipe"],
      // node:sqlite (the unit tests' SQL port) is stable enough for tests; its notice is noise.
      env: {
        ...process.env,
        // Output is piped through the filter below; keep vitest's colors on a terminal.
        ...(process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: "1" } : {}),
        NODE_OPTIONS:
          `${process.env.NODE_OPTIONS ?? ""} --disable-warning=ExperimentalWarning`.trim(),
      },
    },
  );
  if (child.stdout) filterInjectedCrashes(child.stdout, process.stdout);
  if (child.stderr) filterInjectedCrashes(child.stderr, process.stderr);
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("close", (exitCode, signal) => done(exitCode ?? (signal ? 1 : 0)));
});

const counts = readCounts(report, code);
if (hiddenCrashLogs > 0)
  console.log(
    `\n(${hiddenCrashLogs} workerd log lines about deliberately injected crashes and failures were left out; VERBOSE_WORKERD=1 shows them)`,
  );
rmSync(reportDir, { recursive: true, force: true });
const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : "";
console.log(`\n${counts.passed} passed, ${counts.failed} failed${skipped}`);
process.exit(code !== 0 || counts.failed > 0 ? 1 : 0);

/** Counts from the JSON report; a file that failed to load counts as one failure. */
function readCounts(path, exitCode) {
  let json;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return { passed: 0, failed: 1, skipped: 0 };
  }
  const passed = json.numPassedTests ?? 0;
  let failed = json.numFailedTests ?? 0;
  const skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  const brokenFiles = (json.testResults ?? []).filter(
    (file) => file.status === "failed" && (file.assertionResults ?? []).length === 0,
  ).length;
  failed += brokenFiles;
  if (exitCode !== 0 && failed === 0) failed = 1;
  return { passed, failed, skipped };
}

/** workerd's own exception lines (a vitest failure report never starts like this). */
function isWorkerdException(line) {
  return line.startsWith("uncaught exception;") || line.startsWith("exception = ");
}

/** Drops the lines workerd writes for an injected crash: the exception, then its stack. */
function filterInjectedCrashes(stream, out) {
  let pending = "";
  let skipStack = false;
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (isWorkerdException(line) && line.includes("Error: injected ")) {
        hiddenCrashLogs++;
        skipStack = true;
        continue;
      }
      if (skipStack && (line.startsWith("stack: ") || line.startsWith("    at "))) {
        hiddenCrashLogs++;
        continue;
      }
      skipStack = false;
      out.write(`${line}\n`);
    }
  });
  stream.on("end", () => {
    if (pending !== "") out.write(pending);
  });
}
