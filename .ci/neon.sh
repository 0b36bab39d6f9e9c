#!/bin/sh
# CI step: cross-compile rnnk for aarch64 and run the NEON test driver under
# qemu-aarch64.
#   .ci/neon.sh            (from anywhere; works in the repository root)
# Environment: BUILD_ARM64 (build dir, default build-arm64, recreated),
#              NEON_TIMEOUT (seconds for the qemu run, default 300).
# No Criterion (its runner hangs under qemu, TOOLCHAIN.md 13) and no hwloc /
# SLEEF for arm64 (TOOLCHAIN.md 12): the library needs neither, and without
# Criterion tests/meson.build builds only tests/neon_driver.c, which checks
# every NEON kernel and whole networks against the scalar reference, bit for
# bit, and ends with "N passed, M failed". Exit status: the driver's (1 on a
# failed check, 137 if killed by the timeout), or that of the failing step.
set -eu

cd "$(dirname "$0")/.."
build=${BUILD_ARM64:-build-arm64}
limit=${NEON_TIMEOUT:-300}
sysroot=/usr/aarch64-linux-gnu

need=""
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need="$need gcc-aarch64-linux-gnu"
[ -f "$sysroot/include/stdio.h" ] || need="$need libc6-dev-arm64-cross"
command -v qemu-aarch64 >/dev/null 2>&1 || need="$need qemu-user"
command -v meson >/dev/null 2>&1 || need="$need meson"
command -v ninja >/dev/null 2>&1 || need="$need ninja-build"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
if [ -n "$need" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "neon.sh: missing packages:$need (run as root to install them)" >&2
    exit 1
  fi
  echo "neon.sh: installing$need"
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need
fi

now() { date +%s.%N; }
t0=$(now)
rm -rf "$build"
meson setup "$build" --cross-file cross/aarch64-linux-gnu.ini \
  -Dhwloc=disabled -Dsleef=disabled -Dbench=disabled -Donednn=disabled -Dtests=true
ninja -C "$build"
t1=$(now)

driver="$build/tests/neon/neon_driver"
if [ ! -x "$driver" ]; then
  echo "neon.sh: $driver was not built" >&2
  exit 1
fi
# Which ISA the library picks under qemu (information only).
echo "neon.sh: active ISA under qemu: $(timeout -s KILL 60 qemu-aarch64 -L "$sysroot" "$build/tests/isa_probe" 2>&1 || echo '?')"

echo "neon.sh: timeout -s KILL $limit qemu-aarch64 -L $sysroot $driver"
rc=0
timeout -s KILL "$limit" qemu-aarch64 -L "$sysroot" "$driver" || rc=$?
t2=$(now)
case $rc in
  0 | 1) ;;
  137) echo "neon.sh: neon_driver killed after ${limit} s (timeout -s KILL)" >&2 ;;
  *) echo "neon.sh: neon_driver exited with status $rc (crash?)" >&2 ;;
esac
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "neon.sh: configure+build %.1f s, qemu run %.1f s\n", b - a, c - b }'
exit "$rc"
