#!/usr/bin/env bash
# The test command: installs (or names) the system packages the suite needs, then runs every
# test against private PostgreSQL and Redis instances that the suite starts on free ports.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh || exit 1
[ -d node_modules ] || npm ci --no-audit --no-fund || exit 1
results=$(mktemp -t vigil-test-XXXXXX.json)
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
status=$?
node -e '
  const fs = require("fs");
  try {
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  } catch { console.log("0 passed, 1 failed"); }
' "$results"
rm -f "$results"
exit $status
