#!/bin/sh
# The shared library exports only the public API: every defined dynamic
# symbol starts with rnnk_ (the build uses -fvisibility=hidden).
set -eu
lib=$(find "$1" -maxdepth 1 -type f -name 'librnnk.so.*.*' | head -n 1) # not meson's librnnk.so.*.p folder
[ -n "$lib" ] || { echo "no librnnk.so in $1"; exit 1; }
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^rnnk_' || true)
n=$(nm -D --defined-only "$lib" | wc -l)
[ "$n" -gt 0 ] || { echo "$lib exports no symbols"; exit 1; }
if [ -n "$bad" ]; then
  echo "symbols exported outside the rnnk_ namespace:"; echo "$bad"; exit 1
fi
echo "$n exported symbols, all rnnk_*"
