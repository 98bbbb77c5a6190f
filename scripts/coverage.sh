#!/bin/sh
# coverage.sh - line and branch coverage of lib/ by the test suite.
#
#   scripts/coverage.sh [WORKDIR]
#
# Configures a separate build with --enable-coverage (gcc --coverage -O0)
# in WORKDIR/build-coverage (default WORKDIR: a fresh directory under
# ${TMPDIR:-/tmp}), runs `make check` there (every test: Check programs,
# shell and Python tests), and prints gcovr's summary of lib/*.c:
#   lines: X% (a out of b)
#   branches: Y% (c out of d)
# plus per-file figures.  Exits nonzero if the build or a test fails, or,
# with COVERAGE_MIN_LINES / COVERAGE_MIN_BRANCHES set (percent), if the
# coverage is below them (issue 7's goal: 90 and 80).  The HTML report goes
# to WORKDIR/coverage/index.html when HTML=1.  Needs gcovr (Debian:
# apt-get install gcovr).
#
# Branch coverage counts the branches gcc generates for the source
# (--exclude-throw-branches is irrelevant in C); unreachable defensive
# branches are not excluded, so the figure is conservative.
set -eu
. "$(dirname "$0")/hardening-common.sh"

command -v gcovr >/dev/null || nslmh_die "gcovr not found (apt-get install gcovr)"
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/nslm-coverage-XXXXXX")}
mkdir -p "$work"
work=$(cd "$work" && pwd)
src=$(nslmh_srcdir "$work")
b="$work/build-coverage"
nslmh_log "coverage: source $src, build $b"
# LDFLAGS=--coverage as well: bench/Makefile.am links without
# $(COVERAGE_LDFLAGS), so --enable-coverage alone fails to link the benchmarks.
# -fprofile-update=atomic: the library runs threads (Caratheodory rows,
# BLIS); plain counters race and gcov then reports negative counts.
nslmh_configure "$src" "$b" --enable-coverage CFLAGS="-g -O0 -fprofile-update=atomic" LDFLAGS="--coverage"
nslmh_make "$b"
find "$b" -name '*.gcda' -delete
status=0
# -O0 and counters make the tests slower: Check's timeouts x 10.
CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-10} make -C "$b" -j"$NSLMH_JOBS" check > "$b/check.out" 2>&1 ||
  status=$?
grep -E '^(# |PASS|FAIL|ERROR|XFAIL|SKIP)' "$b/check.out" | grep -v ': 0$' | tail -20 || true
if [ $status -ne 0 ]; then
  for f in "$b"/tests/*.log; do
    grep -qE '^(FAIL|ERROR)' "$f" 2>/dev/null && { echo "=== $f"; tail -20 "$f"; }
  done
  nslmh_log "coverage: make check failed (status $status); figures below are from the partial run"
fi

# gcovr: search the build tree, report lib/*.c of the source tree.
cd "$b"
sum="$work/coverage-summary.txt"
gcovr -r "$src" --object-directory "$b" --filter "$src/lib/" --exclude-unreachable-branches \
  --print-summary -o "$work/coverage-files.txt" "$b" > "$sum" 2>"$work/gcovr.err" ||
  { cat "$work/gcovr.err"; nslmh_die "gcovr failed"; }
gcovr -r "$src" --object-directory "$b" --filter "$src/lib/" --exclude-unreachable-branches --branches \
  -o "$work/coverage-branches.txt" "$b" 2>>"$work/gcovr.err" || true
if [ "${HTML:-0}" = 1 ]; then
  mkdir -p "$work/coverage"
  gcovr -r "$src" --object-directory "$b" --filter "$src/lib/" --html-details "$work/coverage/index.html" "$b" || true
fi
echo "=== coverage of lib/ (per file: lines; see $work/coverage-branches.txt for branches)"
cat "$work/coverage-files.txt"
echo "=== coverage of lib/ by make check"
cat "$sum"
lines=$(sed -n 's/^lines: \([0-9.]*\)%.*/\1/p' "$sum")
branches=$(sed -n 's/^branches: \([0-9.]*\)%.*/\1/p' "$sum")
echo "coverage_lines_percent = ${lines:-?}"
echo "coverage_branches_percent = ${branches:-?}"
if [ -n "${COVERAGE_MIN_LINES:-}" ] && [ -n "$lines" ] &&
   [ "$(awk "BEGIN{print ($lines < $COVERAGE_MIN_LINES)}")" = 1 ]; then
  echo "coverage: lines $lines% < $COVERAGE_MIN_LINES%"
  status=1
fi
if [ -n "${COVERAGE_MIN_BRANCHES:-}" ] && [ -n "$branches" ] &&
   [ "$(awk "BEGIN{print ($branches < $COVERAGE_MIN_BRANCHES)}")" = 1 ]; then
  echo "coverage: branches $branches% < $COVERAGE_MIN_BRANCHES%"
  status=1
fi
exit $status
