#!/usr/bin/env bash
# Configure (once) and build rnnk in ./build (release, -O3, no -march=native).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/build.ninja ]] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null
