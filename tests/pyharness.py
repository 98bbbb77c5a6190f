"""Shared set-up of the Python tests (tests/test_python_*.py).

Import it first: it finds the library and the package of the build tree
being tested (top_builddir / top_srcdir, exported by tests/Makefile.am's
AM_TESTS_ENVIRONMENT; else guessed from this file's place), exits 77 (skip)
with a visible message when numpy is missing, and provides run(), a small
runner that calls every test_* function of the calling module, prints one
line per failure and the closing line 'N passed, N failed', and exits 0
only if nothing failed.
"""

import os
import re
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(HERE)
TOP_BUILDDIR = os.environ.get("top_builddir") or os.path.dirname(HERE)

try:
    import numpy  # noqa: F401
except ImportError:
    print("SKIP: numpy is not installed for %s (Debian: apt-get install python3-numpy)"
          % sys.executable)
    sys.exit(77)

# Under make check, always the library of the build tree being tested.
if "top_builddir" in os.environ or "NSLM_LIBRARY" not in os.environ:
    os.environ["NSLM_LIBRARY"] = os.path.join(TOP_BUILDDIR, "lib", ".libs", "libnslm.so")
sys.path.insert(0, os.path.join(TOP_SRCDIR, "python"))


def _asan_runtime(library):
    """The ASan runtime a sanitizer build of the library needs, or None."""
    try:
        out = subprocess.run(["ldd", library], capture_output=True, text=True).stdout
    except OSError:
        return None
    m = re.search(r"libasan\.so\S* => (\S+)", out)
    return m.group(1) if m else None


# A library built with -fsanitize=address cannot be dlopen'ed into a Python
# that was not started with the ASan runtime first: start again with it
# preloaded (the CI's sanitizer pass).
_asan = _asan_runtime(os.environ["NSLM_LIBRARY"])
if _asan and _asan not in os.environ.get("LD_PRELOAD", ""):
    os.environ["LD_PRELOAD"] = " ".join(filter(None, [_asan, os.environ.get("LD_PRELOAD")]))
    os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    os.execv(sys.executable, [sys.executable] + sys.argv)


def run(namespace):
    """Runs every test_* callable of namespace (a module's globals())."""
    tests = [(k, v) for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
        except Exception:
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print("ok   %s" % name)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 else 1)


def raises(exc, fn, *args, **kwargs):
    """Calls fn and returns the exception of type exc it raised (fails
    if it raised nothing or something else)."""
    try:
        fn(*args, **kwargs)
    except exc as e:
        return e
    raise AssertionError("%s did not raise %s" % (getattr(fn, "__name__", fn), exc.__name__))
