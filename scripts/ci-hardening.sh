#!/bin/sh
# ci-hardening.sh - the hardening stage of CI (issue 7); .ci/run calls it
# after the main build and test.  From the top of a source tree (configured
# in place or not; every build here is out of tree, under WORKDIR):
#
#   1. abi        a default build (-g -O2), `make check-abi` against the
#                 committed baseline abi/libnslm.abi (abidiff, any nonzero
#                 exit fails);
#   2. fuzz       tests/fuzz/run-fuzz.sh FUZZ_SECONDS (default 60) on every
#                 libFuzzer target (npy, npz, path, cli: clang,
#                 -fsanitize=fuzzer,address,undefined), seeded from the
#                 committed corpora; any finding fails;
#   3. sanitize   scripts/sanitize.sh: ASan+UBSan with gcc (the whole suite
#                 with LeakSanitizer off, then the Check programs with it on;
#                 SANITIZE_FULL=0 skips the whole-suite pass) and clang (Check
#                 programs), TSan (test_threads), valgrind memcheck over every
#                 Check program;
#   4. coverage   scripts/coverage.sh: line and branch coverage of lib/
#                 (printed; COVERAGE_MIN_LINES / COVERAGE_MIN_BRANCHES make
#                 it a gate).
#
#   scripts/ci-hardening.sh [STEP...]   default: abi fuzz sanitize coverage
#
# Missing tools (clang with its runtimes, valgrind, abigail-tools, gcovr)
# are installed with apt-get when running as root, else the step fails
# with the apt-get line.  Every step runs even if an earlier one failed;
# the exit status is nonzero if any did.  Prints each step's time and a
# summary.  Measured on the 2-core CI machine: see the final report of
# issue 7 (well under the 40 minutes this stage may take).
set -u
. "$(dirname "$0")/hardening-common.sh"

steps=${*:-abi fuzz sanitize coverage}
work=${WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/nslm-hardening-XXXXXX")}
mkdir -p "$work"
work=$(cd "$work" && pwd)
export FUZZ_SECONDS=${FUZZ_SECONDS:-60}

need() { # need PACKAGE COMMAND...
  _pkg=$1
  shift
  for _c in "$@"; do
    command -v "$_c" >/dev/null 2>&1 && continue
    if [ "$(id -u)" = 0 ]; then
      nslmh_log "installing $_pkg"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$_pkg" >/dev/null ||
        { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "$_pkg" >/dev/null; } || return 1
    else
      nslmh_log "missing $_c: apt-get install -y $_pkg"
      return 1
    fi
  done
}

need_pkg() { # need_pkg PACKAGE: installed (dpkg), else installed now if root
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' && return 0
  if [ "$(id -u)" = 0 ]; then
    nslmh_log "installing $1"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1"; } \
      >/dev/null 2>&1
  else
    nslmh_log "missing package: apt-get install -y $1"
    return 1
  fi
}

failed=""
result=""
t_all=$(date +%s)
src=$(nslmh_srcdir "$work")
for step in $steps; do
  nslmh_log "=== hardening step: $step"
  nslmh_time_start
  st=0
  case $step in
  abi)
    need abigail-tools abidw abidiff || st=1
    if [ $st -eq 0 ]; then
      b="$work/build-abi"
      ( nslmh_configure "$src" "$b" CFLAGS="-g -O2" && nslmh_make "$b" && make -s -C "$b" check-abi ) || st=$?
    fi
    result="${result}abi: abidiff exit $(if [ $st -eq 0 ]; then echo 0; else echo 'nonzero (see above)'; fi)
"
    ;;
  fuzz)
    need clang clang || st=1
    # the libFuzzer and sanitizer runtimes (Debian: libclang-rt-NN-dev)
    rt=$(clang -print-runtime-dir 2>/dev/null || true)
    if [ $st -eq 0 ] && ! ls "$rt"/libclang_rt.fuzzer*.a >/dev/null 2>&1; then
      v=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
      need_pkg "libclang-rt-$v-dev"
      ls "$rt"/libclang_rt.fuzzer*.a >/dev/null 2>&1 || { nslmh_log "no libFuzzer runtime in $rt"; st=1; }
    fi
    if [ $st -eq 0 ]; then
      WORKDIR="$work/fuzz" sh "$src/tests/fuzz/run-fuzz.sh" "$FUZZ_SECONDS" > "$work/fuzz.out" 2>&1 || st=$?
      cat "$work/fuzz.out"
      for t in $(cd "$src/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//'); do
        seeds=$(ls "$src/tests/fuzz/corpus/$t" 2>/dev/null | wc -l)
        execs=$(sed -n "s/.*fuzz_$t: no finding; stat::number_of_executed_units: *\([0-9]*\).*/\1/p" "$work/fuzz.out")
        newc=$(ls "$work/fuzz/corpus-$t" 2>/dev/null | wc -l)
        result="${result}fuzz $t: ${FUZZ_SECONDS} s on one core (libFuzzer -max_total_time), executions ${execs:-?}, seed corpus $seeds files, corpus after $((seeds + newc)), findings $(grep -c "fuzz_$t: FINDING" "$work/fuzz.out")
"
      done
    fi
    ;;
  sanitize)
    need clang clang && need valgrind valgrind || st=1
    if [ $st -eq 0 ]; then
      SANITIZE_FULL=${SANITIZE_FULL:-1} WORKDIR="$work/sanitize" sh "$src/scripts/sanitize.sh" \
        > "$work/sanitize.out" 2>&1 || st=$?
      cat "$work/sanitize.out"
      result="${result}$(sed -n '/=== sanitize.sh summary/,$p' "$work/sanitize.out" | sed '1d')
"
    fi
    ;;
  coverage)
    need gcovr gcovr || st=1
    if [ $st -eq 0 ]; then
      sh "$src/scripts/coverage.sh" "$work/coverage" > "$work/coverage.out" 2>&1 || st=$?
      cat "$work/coverage.out"
      result="${result}coverage: lines $(sed -n 's/^coverage_lines_percent = //p' "$work/coverage.out")%, branches $(sed -n 's/^coverage_branches_percent = //p' "$work/coverage.out")% of lib/
"
    fi
    ;;
  *) nslmh_log "unknown step $step"; st=2 ;;
  esac
  nslmh_time_end "$step"
  [ $st -eq 0 ] || failed="$failed $step"
done
echo "=== hardening summary"
printf '%s' "$result"
echo "step times: ${NSLMH_TIMES:-}total $(( $(date +%s) - t_all )) s"
if [ -n "$failed" ]; then
  echo "hardening: FAILED:$failed (work directory kept: $work)"
  exit 1
fi
echo "hardening: all steps passed"
[ -z "${WORKDIR:-}" ] && rm -rf "$work"
exit 0
