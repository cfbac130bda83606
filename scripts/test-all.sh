#!/usr/bin/env bash
# The README's test command: installs everything the tests need, builds, lints
# and runs the whole suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== npm packages"
npm ci --no-audit --no-fund

echo "== Debian packages"
bash scripts/install-debian-deps.sh

echo "== build and lint"
npm run build
npm run typecheck
npm run lint

echo "== tests"
mkdir -p .test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json || status=$?

# One plain closing line that any reader of CI output understands.
node -e '
const r = JSON.parse(require("fs").readFileSync(".test-results/vitest.json", "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' || status=1
exit $status
