// Reads vitest's JSON report and fails when the integration suites (*.int.test.ts)
// did not run — a green run that skipped the real broker and database proves nothing.
// Prints the plain "N passed, N failed" line CI reads.
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(process.argv[2], "utf8"));
let passed = 0;
let failed = 0;
let skipped = 0;
let intPassed = 0;
let intSkipped = 0;
let browserPassed = 0;
for (const file of report.testResults) {
  const integration = file.name.endsWith(".int.test.ts");
  const browser = file.name.includes("/apps/web/e2e/");
  for (const t of file.assertionResults) {
    if (t.status === "passed") {
      passed++;
      if (integration) intPassed++;
      if (browser) browserPassed++;
    } else if (t.status === "failed") failed++;
    else {
      skipped++;
      if (integration) intSkipped++;
    }
  }
}
console.log(`integration tests: ${intPassed} passed, ${intSkipped} skipped`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (intPassed === 0 || intSkipped > 0) {
  console.error("FAIL: the integration suites were skipped or did not run");
  process.exit(1);
}
console.log(`browser tests: ${browserPassed} passed`);
if (browserPassed === 0) {
  console.error("FAIL: the browser suite (apps/web/e2e) did not run");
  process.exit(1);
}
if (failed > 0 || !report.success) process.exit(1);
