#!/usr/bin/env bash
# Debian 12 packages rnnk needs to build, test and benchmark (run as root).
# Skips apt entirely when everything is already installed.
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc g++ libsleef-dev libhwloc-dev hwloc
      libcriterion-dev libbenchmark-dev libdnnl-dev)
[[ "${1:-}" == "--ci" ]] && pkgs+=(clang libclang-rt-14-dev valgrind gcc-aarch64-linux-gnu
                                   libc6-dev-arm64-cross qemu-user)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
