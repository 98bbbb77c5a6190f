#!/bin/sh
# installcheck.sh - the installed libnslm works from the outside: the C and
# C++ examples build through pkg-config only and run (dynamically, and
# statically when libnslm.a is installed), the installed nslm tool runs its
# demo, the installed Python package imports and finds the library, and the
# man pages are in place.
#
#   tests/installcheck.sh [BUILDDIR]   install BUILDDIR (default .) into a
#                                      temporary DESTDIR and check that
#   tests/installcheck.sh --prefix DIR check an installation in DIR (what
#                                      'make installcheck' runs)
# Needs cc, c++, pkg-config (pkgconf's --define-prefix for the DESTDIR mode).
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ "${1:-}" = "--prefix" ]; then
  root=$2
else
  builddir=$(cd "${1:-.}" && pwd)
  make -C "$builddir" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; echo "FAIL: make install"; exit 1; }
  prefix=$(sed -n 's/^prefix=//p' "$builddir/pkgconfig/nslm.pc")
  root=$tmp/root$prefix
fi
# The .pc file names the configured prefix; under DESTDIR that is not where
# the files are: let pkg-config derive the prefix from the file's place.
pcflags="--define-prefix"

pc=$(find "$root" -name nslm.pc -path '*pkgconfig*' | head -n 1)
[ -n "$pc" ] || { echo "FAIL: no nslm.pc under $root"; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
PC="pkg-config $pcflags"
cflags=$($PC --cflags nslm)
libs=$($PC --libs nslm)
libdir=$($PC --variable=libdir nslm)
passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
run() { # name command...: run, show the output on failure
  name=$1; shift
  if "$@" >"$tmp/out" 2>&1; then ok "$name"; else cat "$tmp/out"; bad "$name"; fi
}

echo "checking the installation in $root (pkg-config: $cflags $libs)"
run "C example builds (pkg-config only)" \
  ${CC:-cc} -std=c99 -Wall -Wextra -pedantic -Werror "$srcdir/examples/connect.c" $cflags $libs \
  -lm -o "$tmp/connect"
run "C example runs" env LD_LIBRARY_PATH="$libdir" "$tmp/connect"
run "C++ example builds (pkg-config only)" \
  ${CXX:-c++} -std=c++17 -Wall -Wextra -pedantic -Werror "$srcdir/examples/landscape.cpp" \
  $cflags $libs -o "$tmp/landscape"
run "C++ example runs" env LD_LIBRARY_PATH="$libdir" "$tmp/landscape"

if [ -f "$libdir/libnslm.a" ]; then
  # Static libnslm, its dependencies (Libs.private) dynamic.
  private=$($PC --static --libs nslm | sed 's/-lnslm//')
  run "C example builds statically" \
    ${CC:-cc} -std=c99 "$srcdir/examples/connect.c" $cflags "$libdir/libnslm.a" $private -lm \
    -o "$tmp/connect-static"
  if ldd "$tmp/connect-static" | grep -q libnslm; then
    bad "static build does not need libnslm.so"
  else
    run "static C example runs" "$tmp/connect-static"
  fi
else
  echo "(no libnslm.a installed: configure --enable-static to check static linking)"
fi

bindir=$(dirname "$libdir")/bin
if [ -x "$bindir/nslm" ]; then
  run "installed nslm runs its demo" \
    env LD_LIBRARY_PATH="$libdir" "$bindir/nslm" demo -q --out "$tmp/demo.svg"
  [ -s "$tmp/demo.svg" ] && ok "demo wrote its SVG" || bad "demo wrote its SVG"
else
  bad "nslm installed in $bindir"
fi

for page in man1/nslm.1 man3/nslm.3 man7/nslm.7; do
  if [ -n "$(find "$root" -path "*share/man/$page" | head -n 1)" ]; then ok "$page installed"
  else bad "$page installed"; fi
done

py=${PYTHON3:-/usr/bin/python3}
site=$(find "$root" -type d -name nslm -path '*dist-packages*' | head -n 1)
if [ -z "$site" ]; then
  bad "Python package installed under */dist-packages"
elif ! "$py" -c 'import numpy' 2>/dev/null; then
  echo "(numpy missing: the Python package is not imported)"
else
  # The package loads the library from the libdir recorded at install time;
  # in a DESTDIR tree that directory is not there yet, so name the library.
  run "Python package imports and evaluates" env PYTHONPATH="$(dirname "$site")" \
    NSLM_LIBRARY="$libdir/libnslm.so.0" "$py" -c '
import nslm, numpy as np
net = nslm.Net([2, 8, 1]); theta = nslm.Params.random(net, seed=1)
data = nslm.Data(np.ones((3, 2)), np.zeros((3, 1)))
print(nslm.library_version(), nslm.risk(net, theta, data, nslm.Loss()))'
  grep -q "^LIBDIR = '" "$site/_config.py" && ok "Python package records the libdir" ||
    bad "Python package records the libdir"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
