#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite and lint. Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
rm -f test-reports/results.json
npx --no-install projen test
status=$?
node scripts/summarize-tests.js test-reports/results.json || status=1
exit $status
