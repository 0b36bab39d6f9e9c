#!/usr/bin/env bash
# ThreadSanitizer run of the threaded code: the pool suite built without
# Criterion (-DRNNK_TEST_NO_CRITERION) and tests/tsan_forward.c, against a
# TSan build of the library. Any race report fails (halt_on_error).
set -euo pipefail
cd "$(dirname "$0")/.."
b=build-tsan
[[ -f $b/build.ninja ]] || meson setup $b -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized \
  -Dtests=false -Dbench=disabled >/dev/null
ninja -C $b librnnk.a >/dev/null
flags=(-std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=thread -Iinclude -I. -I$b)
libs=($b/librnnk.a -lhwloc -lm -lpthread)
cc "${flags[@]}" -DRNNK_TEST_NO_CRITERION tests/test_pool.c "${libs[@]}" -o $b/tsan_pool
cc "${flags[@]}" tests/tsan_forward.c tests/common.c "${libs[@]}" -o $b/tsan_forward
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
$b/tsan_pool
$b/tsan_forward
# again on a pretend two-node machine: per-node weight copies (src/replicas.c)
HWLOC_SYNTHETIC="pack:2 numa:1 core:1 pu:1" $b/tsan_forward
