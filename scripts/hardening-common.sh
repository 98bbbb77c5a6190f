# hardening-common.sh - shell functions shared by scripts/coverage.sh,
# scripts/sanitize.sh and scripts/ci-hardening.sh (sourced, not run).
#
# Each of those builds the library in a directory of its own, out of tree,
# so that they never disturb the main build.  A VPATH build needs a source
# tree that was not configured in place (automake refuses one that has a
# config.status); CI configures in place, so nslmh_srcdir makes a snapshot:
# the files git knows (tracked and new, not ignored) plus the autotools
# output (configure, Makefile.in, ...), copied with their timestamps, so no
# autoreconf is needed.

# The top of the source tree (the parent of scripts/).
NSLMH_TOP=$(cd "$(dirname "$0")/.." && pwd)
NSLMH_JOBS=${JOBS:-2}

nslmh_log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*"; }
nslmh_die() { nslmh_log "ERROR: $*" >&2; exit 1; }

# nslmh_srcdir WORKDIR: prints a source directory usable for VPATH builds.
nslmh_srcdir() {
  _w=$1
  if [ ! -f "$NSLMH_TOP/config.status" ] && [ -x "$NSLMH_TOP/configure" ]; then
    echo "$NSLMH_TOP"
    return 0
  fi
  _s="$_w/src"
  if [ ! -x "$_s/configure" ]; then
    rm -rf "$_s"
    mkdir -p "$_s"
    if git -C "$NSLMH_TOP" rev-parse --git-dir >/dev/null 2>&1; then
      ( cd "$NSLMH_TOP" &&
        { git ls-files -co --exclude-standard | while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done
          for f in configure aclocal.m4 config.h.in; do [ -f "$f" ] && echo "$f"; done
          find . -name Makefile.in -not -path './build-*' | sed 's|^\./||'
          [ -d build-aux ] && find build-aux -type f
          [ -d m4 ] && find m4 -type f
        } | sort -u | tar -cf - -T - ) | ( cd "$_s" && tar -xf - )
    else
      ( cd "$NSLMH_TOP" && tar -cf - --exclude='*.o' --exclude='*.lo' --exclude='*.la' --exclude=.libs \
          --exclude=.deps --exclude=config.status --exclude=config.log --exclude=Makefile \
          --exclude=libtool --exclude=config.h --exclude=stamp-h1 --exclude='build-*' . ) | ( cd "$_s" && tar -xf - )
    fi
    if [ ! -x "$_s/configure" ]; then
      ( cd "$_s" && autoreconf -fi >/dev/null 2>&1 ) || nslmh_die "autoreconf failed in $_s"
    fi
  fi
  echo "$_s"
}

# nslmh_configure SRCDIR BUILDDIR [configure arguments...]
nslmh_configure() {
  _src=$1
  _b=$2
  shift 2
  mkdir -p "$_b"
  ( cd "$_b" && "$_src/configure" -q "$@" ) > "$_b/configure.out" 2>&1 ||
    { tail -30 "$_b/configure.out"; nslmh_die "configure failed in $_b"; }
}

# nslmh_make BUILDDIR [targets...]: quiet make, the tail of the log on failure.
nslmh_make() {
  _b=$1
  shift
  make -C "$_b" -j"$NSLMH_JOBS" "$@" > "$_b/make.out" 2>&1 ||
    { tail -40 "$_b/make.out"; nslmh_die "make $* failed in $_b"; }
}

# nslmh_check_programs BUILDDIR: the Check programs built in BUILDDIR/tests
# (ELF executables named test_* or replay_*), space-separated names.
nslmh_check_programs() {
  for _f in "$1"/tests/test_* "$1"/tests/replay_*; do
    [ -f "$_f" ] && [ -x "$_f" ] || continue
    case "$_f" in *.c|*.o|*.sh|*.py|*.log|*.trs) continue ;; esac
    head -c 4 "$_f" | grep -q 'ELF' && basename "$_f"
  done | tr '\n' ' '
}

# nslmh_time_start / nslmh_time_end NAME: accumulates stage timings (wall
# clock and CPU of the children).
nslmh_time_start() {
  _nslmh_t0=$(date +%s)
  times > "${TMPDIR:-/tmp}/nslmh-t0.$$"
}
nslmh_time_end() {
  _dt=$(( $(date +%s) - _nslmh_t0 ))
  times > "${TMPDIR:-/tmp}/nslmh-t1.$$"
  _dc=$(cat "${TMPDIR:-/tmp}/nslmh-t0.$$" "${TMPDIR:-/tmp}/nslmh-t1.$$" | awk 'NR == 2 || NR == 4 {
    t = 0
    for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] }
    if (NR == 2) t0 = t; else printf "%d", t - t0 }')
  rm -f "${TMPDIR:-/tmp}/nslmh-t0.$$" "${TMPDIR:-/tmp}/nslmh-t1.$$"
  NSLMH_TIMES="${NSLMH_TIMES:-}$1 ${_dt}s (cpu ${_dc}s); "
  nslmh_log "$1: ${_dt} s wall, ${_dc} s CPU"
}
