#!/usr/bin/env bash
# The main job: set up, then validate and inspect the example template.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx --no-install kiln validate examples/hello.json
npx --no-install kiln inspect examples/hello.json
