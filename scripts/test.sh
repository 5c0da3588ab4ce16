#!/usr/bin/env bash
# Runs Pitlane's whole test suite from a fresh clone (this is `npm test`, and what CI runs).
#
# It installs everything it needs itself:
#   1. npm packages (npm ci, when node_modules is missing or older than package-lock.json)
#   2. builds dist/ and type-checks src/, test/ and bench/
#   3. a Docker engine (Debian's docker.io, started as a daemon) when none answers
#   4. the local base images (air-gapped mode: debootstrap + docker import, Debian's python3, the
#      npm registry's node 24 binary; no container registry needed)
#   5. runs the unit and integration tests under the machine's Node.js (>= 20)
#   6. runs the unit tests again under Node 24 (the npm registry's node@24 package)
# and ends with one line "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[test] %s\n' "$*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
say "building dist/"
npx tsc -p tsconfig.build.json
node scripts/build-exec-bundle.mjs
say "type-checking"
npx tsc -p tsconfig.json --noEmit

bash scripts/setup/ensure-docker.sh
bash scripts/setup/base-images.sh
bash scripts/setup/node-base-image.sh

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
say "unit and integration tests under $(node --version)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results/node-default.json" || status=1

say "unit tests under Node 24"
node24="$(bash scripts/setup/ensure-node24.sh | tail -n 1)"
"$node24" --version >&2
"$node24" node_modules/vitest/vitest.mjs run --project unit --reporter=default --reporter=json --outputFile.json="$results/node24.json" || status=1

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) { failed += 1; console.error(`[test] no results in ${file}`); continue; }
    const report = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += report.numPassedTests; failed += report.numFailedTests + (report.numTotalTestSuites > 0 && report.success === false && report.numFailedTests === 0 ? 1 : 0);
  }
  console.log(`tests: ${passed} passed, ${failed} failed`);
' "$results/node-default.json" "$results/node24.json"
exit "$status"
