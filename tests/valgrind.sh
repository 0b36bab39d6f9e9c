#!/usr/bin/env bash
# valgrind memcheck over the plain test programs (valgrind hides AVX-512, so
# this checks the scalar and AVX2 paths; ASan covers AVX-512): every kernel
# against the reference (neon_driver, which checks the x86 tables on x86) and
# the threaded forward paths. Any memcheck error fails (--error-exitcode).
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
cc -std=c11 -D_GNU_SOURCE -O1 -g -Iinclude -I. -I"$b" tests/tsan_forward.c tests/common.c "$b"/librnnk.a -lhwloc -lm -lpthread \
  -o "$b"/vg_forward
vg=(valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite -q)
"${vg[@]}" "$b"/tests/neon/neon_driver
"${vg[@]}" "$b"/vg_forward
# the threaded paths again on a pretend two-node machine: per-node weight copies
HWLOC_SYNTHETIC="pack:2 numa:1 core:1 pu:1" "${vg[@]}" "$b"/vg_forward
