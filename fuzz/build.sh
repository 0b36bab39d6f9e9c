#!/bin/sh
# Build the tune cache parser fuzzer (libFuzzer + ASan + UBSan) in its own
# directory and run it on a copy of fuzz/corpus/.
#
#   fuzz/build.sh [SECONDS]      default 60; 0 = build and replay the seeds only
#
# Environment: CC (default clang; needs libclang-rt-14-dev), FUZZ_OUT (build
# directory, default build-fuzz/ at the repository root), FUZZ_JOBS
# (parallel fuzzing processes, default 1). Exits non-zero on a crash, a
# leak or a failed property; the crashing input is left in FUZZ_OUT.
set -eu

secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${FUZZ_OUT:-$root/build-fuzz}
cc=${CC:-clang}
jobs=${FUZZ_JOBS:-1}

mkdir -p "$out/gen" "$out/corpus"

# A stand-in for meson's generated header: cache.c needs only the version.
cat >"$out/gen/rnnk_config.h" <<'EOF'
#define RNNK_VERSION "0.1.0"
#define RNNK_HAVE_HWLOC 0
#define RNNK_HAVE_SLEEF 0
#define RNNK_HAVE_AVX2 0
#define RNNK_HAVE_AVX512 0
#define RNNK_HAVE_NEON 0
EOF

# Tokens of the format, so mutations reach the entry parser quickly.
cat >"$out/tune_cache.dict" <<'EOF'
"rnnk-tune-cache "
"library "
"kernels "
"cpu "
"entry "
"end "
"vendor="
"family="
"model="
"stepping="
"isa="
"l1d_kib="
"l2_kib="
"l3_kib="
"cell="
"dtype="
"hidden="
"input="
"batch="
"threads="
"variant="
"unit="
"batch_tile="
"k_block="
"time_chunk="
"split="
"ms="
"ms_default="
"scalar"
"avx2"
"avx512"
"neon"
"elman"
"jordan"
"lstm"
"gru"
"f32"
"4096"
"1e-12"
"1e12"
"2147483648"
"-0"
"\x0a"
"# "
EOF

"$cc" -std=c11 -g -O1 -D_GNU_SOURCE -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$out/gen" -I"$root/include" -I"$root" \
  "$root/tune/cache.c" "$root/fuzz/fuzz_tune_cache.c" \
  -o "$out/fuzz_tune_cache" -lpthread -lm

cp "$root"/fuzz/corpus/* "$out/corpus/"

cd "$out"
if [ "$secs" -eq 0 ]; then
  # Replay the seeds once (a quick check that the target and seeds agree).
  exec ./fuzz_tune_cache -runs=0 -max_len=8192 corpus
fi
extra=""
if [ "$jobs" -gt 1 ]; then extra="-fork=$jobs"; fi
# shellcheck disable=SC2086
exec ./fuzz_tune_cache -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict=tune_cache.dict -print_final_stats=1 $extra corpus
