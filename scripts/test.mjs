// `npm test`: every vitest project (see vitest.config.ts), with vitest's usual output, then
// one plain closing line, "N passed, N failed[, N skipped]", read from its JSON report.
// Extra arguments go to vitest: `npm test -- --project core`.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const vitestBin = join(
  dirname(createRequire(import.meta.url).resolve("vitest/package.json")),
  "vitest.mjs",
);
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
      stdio: "inherit",
      // node:sqlite (the unit tests' SQL port) is stable enough for tests; its notice is noise.
      env: {
        ...process.env,
        NODE_OPTIONS:
          `${process.env.NODE_OPTIONS ?? ""} --disable-warning=ExperimentalWarning`.trim(),
      },
    },
  );
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (exitCode, signal) => done(exitCode ?? (signal ? 1 : 0)));
});

const counts = readCounts(report, code);
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
