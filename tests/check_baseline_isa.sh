#!/bin/sh
# Usage: check_baseline_isa.sh BUILD_DIR
#
# The baseline parts of librnnk (everything but the per-ISA static libraries
# librnnk_avx2.a / librnnk_avx512.a / librnnk_avx*.a) must run on any x86-64,
# including the code that decides whether AVX2/AVX-512 may run at all. A
# stray -mavx2, -march=native, target attribute or a non-static inline helper
# from an ISA header would put ymm/zmm instructions there; this catches it by
# disassembling every baseline object. Also flagged: opmask registers k0-k7
# and xmm16-31, which exist only with AVX-512 (EVEX).
# Exit 0 if clean, 1 on a finding (the object is named), 77 (meson: skipped)
# when there is nothing x86-64 to check.
set -u

build=${1:-}
if [ -z "$build" ] || [ ! -d "$build" ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
objdump=${OBJDUMP:-objdump}
readelf=${READELF:-readelf}

# Baseline objects live in the private dirs of librnnk itself (librnnk.so.p,
# librnnk.a.p) and of its baseline static libraries (e.g. kernels/librnnk_ref.a.p).
# (librnnk.so.p carries the version: librnnk.so.0.1.0.p). bench/ is not the
# library: its roofline probe uses AVX on purpose, behind a CPU check.
list=$(find "$build" -type d \( -name 'librnnk.so*.p' -o -name 'librnnk.a.p' -o -name 'librnnk_*.a.p' \) \
         ! -name 'librnnk_avx*.a.p' ! -path '*/bench/*' 2>/dev/null | sort)
if [ -z "$list" ]; then
  echo "check_baseline_isa: no librnnk object directories under $build (build it first)" >&2
  exit 1
fi

checked=0 skipped=0 bad=0
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT INT TERM
for dir in $list; do
  for obj in $(find "$dir" -type f -name '*.o' | sort); do
    machine=$("$readelf" -h "$obj" 2>/dev/null | sed -n 's/^ *Machine: *//p')
    case "$machine" in
      *X86-64*) ;;
      "")
        echo "FAIL $obj: not an ELF object readelf understands (LLVM bitcode from LTO?)"
        bad=$((bad + 1)); continue ;;
      *)
        skipped=$((skipped + 1)); continue ;; # another architecture: no ymm/zmm there
    esac
    # GCC LTO objects without -ffat-lto-objects hold IR only: nothing to disassemble.
    if "$readelf" -S -W "$obj" | grep -q '\.gnu\.lto_' &&
       ! "$readelf" -S -W "$obj" | grep -qE ' \.text(\.[^ ]*)? +PROGBITS +[0-9a-f]+ +[0-9a-f]+ +0*[1-9a-f]'; then
      echo "FAIL $obj: LTO IR only, cannot be checked (build with -Db_lto=false or -ffat-lto-objects)"
      bad=$((bad + 1)); continue
    fi
    if ! "$objdump" -d --no-show-raw-insn "$obj" > "$tmp" 2>&1; then
      echo "FAIL $obj: objdump failed:"; sed -n 1,5p "$tmp"
      bad=$((bad + 1)); continue
    fi
    hits=$(grep -E '%(ymm|zmm)[0-9]|%k[0-7]\b|%xmm(1[6-9]|2[0-9]|3[01])\b' "$tmp")
    if [ -n "$hits" ]; then
      n=$(printf '%s\n' "$hits" | wc -l)
      echo "FAIL $obj: $n instruction(s) use AVX/AVX-512 registers, e.g.:"
      printf '%s\n' "$hits" | sed -n 1,5p
      # Name the function of the first hit.
      first=$(printf '%s\n' "$hits" | sed -n 1p | sed 's/^ *\([0-9a-f]*\):.*/\1/')
      fn=$(awk -v a="$first" '/^[0-9a-f]+ <.*>:$/ { f = $2 } $1 == a":" { print f; exit }' "$tmp")
      [ -n "$fn" ] && echo "  in function $(printf "%s" "$fn" | tr -d "<>:")"
      bad=$((bad + 1))
    else
      echo "ok   $obj"
    fi
    checked=$((checked + 1))
  done
done

echo "check_baseline_isa: checked $checked x86-64 object(s), skipped $skipped of another architecture, $bad failing"
if [ "$bad" -ne 0 ]; then
  exit 1
fi
if [ "$checked" -eq 0 ]; then
  echo "check_baseline_isa: nothing x86-64 to check" >&2
  exit 77
fi
exit 0
