#!/usr/bin/env bash
# The test suite: install, build, run every test (Criterion prints its
# "Synthesis" line per suite).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
meson test -C build --verbose --print-errorlogs
