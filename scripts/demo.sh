#!/usr/bin/env bash
# The main job: install, build, then on this host: what rnnk sees, the
# lecture's example networks, a quick autotune of the default shapes, and a
# short benchmark table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
rnnk=build/tools/rnnk
$rnnk info
echo
$rnnk examples
echo
echo "== Quick autotune (default shapes; cache: \$RNNK_TUNE_CACHE or ~/.cache/rnnk/tune.txt)"
$rnnk tune --quick
echo
echo "== Benchmarks (median of repeated runs, ms per sequence of T = 50)"
$rnnk bench --quick
