#!/bin/sh
# sanitize.sh - the test suite under sanitizers and valgrind (issue 7).
#
#   scripts/sanitize.sh [STAGE...]      default: asan-gcc asan-clang tsan valgrind
#
# Stages (each in its own build directory under WORKDIR, default a fresh
# ${TMPDIR:-/tmp}/nslm-sanitize-XXXXXX):
#   asan-gcc    gcc, -fsanitize=address,undefined -fno-sanitize-recover=undefined,
#               the Check programs with LeakSanitizer on; with
#               SANITIZE_FULL=1 first the whole `make check` (shell and
#               Python tests too) with LeakSanitizer off - the Python tests
#               preload the ASan runtime, which then also watches python
#               itself and the tools the tests start (sed in libtool's
#               wrapper leaks a byte by design).  CI's own sanitizer pass
#               (.ci/run) already runs the whole suite that way;
#   asan-clang  the same with clang, on the Check programs (they link the
#               library statically; clang's sanitizer runtimes are static,
#               so neither libnslm.so nor the Python tests, which dlopen it,
#               are built with it);
#   tsan        clang -fsanitize=thread, tests/test_threads (several threads
#               evaluating and certifying at once);
#   valgrind    a plain -O1 -g build; every Check program under memcheck
#               with CK_FORK=no (all tests in one process), two at a time:
#               zero errors and zero definitely lost blocks required.
#               tests/valgrind.supp (documented there) only quiets BLIS's
#               and OpenMP's pool blocks, which are reachable or "possibly
#               lost" at exit, never an error here.
# Findings are counted from the logs: AddressSanitizer / LeakSanitizer /
# UndefinedBehaviorSanitizer / ThreadSanitizer reports and valgrind's error
# summaries.  Prints one line per stage and exits nonzero on any finding or
# failed test.  Check's timeouts are multiplied by CK_TIMEOUT_MULTIPLIER
# (default 10 here).  JOBS (default 2) parallel jobs.
set -u
. "$(dirname "$0")/hardening-common.sh"

stages=${*:-asan-gcc asan-clang tsan valgrind}
work=${WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/nslm-sanitize-XXXXXX")}
mkdir -p "$work"
work=$(cd "$work" && pwd)
src=$(nslmh_srcdir "$work")
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-10}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# LeakSanitizer: BLIS keeps its packing-buffer pools, and libgomp its
# thread pool, until exit; a report inside them is not ours.
cat > "$work/lsan.supp" <<'EOF'
leak:libblis.so
leak:libgomp.so
EOF
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$work/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
total=0
summary=""

# findings LOGFILES...: number of sanitizer reports in the logs.
findings() {
  cat "$@" 2>/dev/null | grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer|SUMMARY: UndefinedBehaviorSanitizer' || true
}

# programs BUILDDIR: the Check programs (from tests/hardening.am's helper target).
programs() { make -s -C "$1/tests" print-check-programs 2>/dev/null; }

# run_check NAME BUILDDIR [TESTS]: make check (all, or the given tests).
run_check() {
  _name=$1 _b=$2
  shift 2
  _st=0
  if [ $# -gt 0 ]; then
    make -C "$_b/tests" -j"$NSLMH_JOBS" check TESTS="$*" > "$_b/check.out" 2>&1 || _st=$?
  else
    make -C "$_b" -j"$NSLMH_JOBS" check > "$_b/check.out" 2>&1 || _st=$?
  fi
  _f=$(findings "$_b"/tests/*.log "$_b"/tests/test-suite.log)
  _failed=$(grep -cE '^(FAIL|ERROR):' "$_b/check.out" || true)
  _n=$(grep -E '^# TOTAL:' "$_b/check.out" | tail -1 | sed 's/.*: *//')
  if [ "$_f" -gt 0 ] || [ "$_failed" -gt 0 ] || [ $_st -ne 0 ]; then
    grep -E '^(FAIL|ERROR):' "$_b/check.out" | head -20
    for _l in "$_b"/tests/*.log; do
      grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: ThreadSanitizer' "$_l" 2>/dev/null &&
        { echo "=== $_l"; grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: ThreadSanitizer' "$_l" | head -40; }
    done
    total=$((total + 1))
  fi
  summary="$summary$_name: tests ${_n:-?}, failed $_failed, sanitizer findings $_f
"
  nslmh_log "$_name: tests ${_n:-?}, failed $_failed, sanitizer findings $_f"
}

for stage in $stages; do
  nslmh_time_start
  b="$work/build-$stage"
  case $stage in
  asan-gcc)
    nslmh_configure "$src" "$b" CC=gcc CFLAGS="-O1 -g $SAN" LDFLAGS="$SAN"
    nslmh_make "$b"
    if [ "${SANITIZE_FULL:-0}" = 1 ]; then
      _saved=$ASAN_OPTIONS
      ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
      run_check asan-gcc-suite "$b"
      ASAN_OPTIONS=$_saved
      mkdir -p "$b/suite-logs"
      cp "$b"/tests/*.log "$b/suite-logs/" 2>/dev/null
    fi
    # shellcheck disable=SC2046
    run_check asan-gcc "$b" $(programs "$b")
    ;;
  asan-clang)
    nslmh_configure "$src" "$b" CC=clang CXX=clang++ CFLAGS="-O1 -g $SAN" LDFLAGS="$SAN"
    nslmh_make "$b/include"
    nslmh_make "$b/lib" libnslm_core.la
    progs=$(programs "$b")
    # shellcheck disable=SC2086
    nslmh_make "$b/tests" $progs
    # shellcheck disable=SC2086
    run_check asan-clang "$b" $progs
    ;;
  tsan)
    # --disable-openmp: with clang's -fopenmp, libomp (not instrumented for
    # TSan) would also serve BLIS's GOMP calls, and every BLIS team reports
    # races inside the runtime.  The library's own threads stay under TSan.
    nslmh_configure "$src" "$b" --disable-openmp CC=clang CXX=clang++ \
      CFLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" LDFLAGS="-fsanitize=thread"
    nslmh_make "$b/include"
    nslmh_make "$b/lib" libnslm_core.la
    nslmh_make "$b/tests" test_threads
    run_check tsan "$b" test_threads
    ;;
  valgrind)
    command -v valgrind >/dev/null || nslmh_die "valgrind not found (apt-get install valgrind)"
    nslmh_configure "$src" "$b" CFLAGS="-O1 -g"
    nslmh_make "$b/include"
    nslmh_make "$b/lib" libnslm_core.la
    progs=$(programs "$b")
    # shellcheck disable=SC2086
    nslmh_make "$b/tests" $progs
    mkdir -p "$b/vg"
    # longest first (measured: connect, caratheodory, path and forward take
    # 4-9 minutes each under memcheck), so two jobs finish together
    heavy="test_connect test_caratheodory test_path test_forward test_fault"
    rest=""
    for p in $progs; do case " $heavy " in *" $p "*) ;; *) rest="$rest $p" ;; esac; done
    ordered=""
    for p in $heavy; do case " $progs " in *" $p "*) ordered="$ordered $p" ;; esac; done
    progs="$ordered$rest"
    # one program per job; each writes PROGRAM.vg (valgrind) and .out
    # shellcheck disable=SC2086
    printf '%s\n' $progs | xargs -P "$NSLMH_JOBS" -I{} sh -c '
      cd "$1/tests" && t0=$(date +%s) &&
      CK_FORK=no TMPDIR="$1/vg" valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
        --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=30 --track-origins=no \
        --suppressions="$2/tests/valgrind.supp" --log-file="$1/vg/{}.vg" ./{} > "$1/vg/{}.out" 2>&1;
      echo "$? $(( $(date +%s) - t0 ))" > "$1/vg/{}.status"' sh "$b" "$src"
    vg_err=0 vg_def=0 vg_fail=0
    for p in $progs; do
      read -r st secs < "$b/vg/$p.status"
      errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$b/vg/$p.vg" | tail -1)
      def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$b/vg/$p.vg" | tail -1 | tr -d ,)
      printf '  valgrind %-18s exit %3s  %4ss  errors %s  definitely lost %s bytes\n' "$p" "$st" "$secs" \
        "${errs:-?}" "${def:-0}"
      vg_err=$((vg_err + ${errs:-1}))
      vg_def=$((vg_def + ${def:-0}))
      if [ "$st" != 0 ]; then
        vg_fail=$((vg_fail + 1))
        grep -E -A20 'Invalid|uninitialised|definitely lost in' "$b/vg/$p.vg" | head -40
        tail -5 "$b/vg/$p.out"
      fi
    done
    [ $vg_err -eq 0 ] && [ $vg_def -eq 0 ] && [ $vg_fail -eq 0 ] || total=$((total + 1))
    summary="${summary}valgrind: programs $(echo $progs | wc -w), failed $vg_fail, errors $vg_err, definitely lost $vg_def bytes
"
    nslmh_log "valgrind: programs $(echo $progs | wc -w), failed $vg_fail, errors $vg_err, definitely lost $vg_def bytes"
    ;;
  *) nslmh_die "unknown stage $stage (asan-gcc asan-clang tsan valgrind)" ;;
  esac
  nslmh_time_end "$stage"
done
echo "=== sanitize.sh summary (work: $work)"
printf '%s' "$summary"
echo "times: ${NSLMH_TIMES:-}"
[ $total -eq 0 ] && [ -z "${WORKDIR:-}" ] && [ "${KEEP:-0}" != 1 ] && rm -rf "$work"
exit $((total > 0))
