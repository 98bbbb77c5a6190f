#!/bin/sh
# run-fuzz.sh - builds the libFuzzer targets with clang and fuzzes each for a
# bounded time; exits nonzero on any finding (crash, leak, timeout, abort,
# sanitizer report) or build failure.
#
#   tests/fuzz/run-fuzz.sh SECONDS [TARGET...]
#
# TARGET is the X of a tests/fuzz/fuzz_X.c (npy, npz, path, ...); default:
# every fuzz_*.c there, each seeded from tests/fuzz/corpus/X.
#
# Environment: CC (default clang), WORKDIR (build and scratch directory,
# default a fresh mktemp -d, kept on failure for the reproducer), FUZZ_FLAGS
# (extra libFuzzer flags).  Each target is compiled from the library sources
# with -fsanitize=fuzzer,address,undefined and
# -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (the .npz reader then skips CRC
# checks so that mutations reach the members), and fuzzed starting from the
# committed seed corpus tests/fuzz/corpus/TARGET; new inputs go to
# WORKDIR/corpus-TARGET, never into the repository.  Reproduce a finding with
#   WORKDIR/fuzz_TARGET WORKDIR/TARGET-crash-...
set -eu
secs=${1:?usage: run-fuzz.sh SECONDS [TARGET...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-$(cd "$here" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
top=$(cd "$here/../.." && pwd)
CC=${CC:-clang}
work=${WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/nslm-fuzz-XXXXXX")}
mkdir -p "$work/include"

# The generated version header (its values do not matter here).
sed -e 's/@NSLM_VERSION_MAJOR@/0/g' -e 's/@NSLM_VERSION_MINOR@/0/g' -e 's/@NSLM_VERSION_PATCH@/0/g' \
  "$top/include/nslm_version.h.in" > "$work/include/nslm_version.h"

# Every library module is compiled (so the targets link like the library);
# --gc-sections drops what the loaders never reach.
cflags="-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -ffunction-sections -fdata-sections -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  -I$work/include -I$top/include -I$top/lib"
objs=""
mkdir -p "$work/obj"
for s in "$top"/lib/*.c; do
  o="$work/obj/$(basename "$s" .c).o"
  # shellcheck disable=SC2086
  $CC $cflags -fsanitize=fuzzer-no-link -c -o "$o" "$s"
  objs="$objs $o"
done
status=0
for t in $targets; do
  src="$here/fuzz_$t.c"
  [ -f "$src" ] || { echo "run-fuzz: no target $t" >&2; exit 2; }
  # shellcheck disable=SC2086
  $CC $cflags -Wl,--gc-sections -o "$work/fuzz_$t" "$src" $objs -llapack -lblis -lz -lm
  mkdir -p "$work/corpus-$t"
  seed="$here/corpus/$t"
  [ -d "$seed" ] || seed=""
  echo "run-fuzz: fuzz_$t for $secs s (seed corpus: $(if [ -n "$seed" ]; then ls "$seed" | wc -l; else echo 0; fi) files)"
  # shellcheck disable=SC2086
  if "$work/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$work/$t-" ${FUZZ_FLAGS:-} \
      "$work/corpus-$t" $seed > "$work/fuzz_$t.log" 2>&1; then
    echo "run-fuzz: fuzz_$t: no finding; $(grep -E 'stat::number_of_executed_units' "$work/fuzz_$t.log" | tail -1)," \
      "new corpus entries $(ls "$work/corpus-$t" | wc -l)"
  else
    status=1
    echo "run-fuzz: fuzz_$t: FINDING (log: $work/fuzz_$t.log)"
    grep -E 'ERROR|SUMMARY|artifact|==[0-9]+==' "$work/fuzz_$t.log" | head -20
  fi
done
[ $status -eq 0 ] && [ -z "${WORKDIR:-}" ] && rm -rf "$work"
exit $status
