"""The Python package declares every function of include/nslm.h, with
argument and return types that match the C prototypes, and the library
of the build tree exports every one of them."""

import ctypes
import os
import re

import pyharness
from pyharness import run

import nslm
from nslm import _lib

HEADER = os.path.join(pyharness.TOP_SRCDIR, "include", "nslm.h")


def prototypes():
    """{name: (return C type, [parameter C types])} from nslm.h."""
    text = open(HEADER).read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)  # preprocessor lines
    protos = {}
    for m in re.finditer(r"NSLM_API\s+([^;]*?)\b(nslm_\w+)\s*\(([^;]*?)\)\s*;", text, re.S):
        ret, name, params = m.group(1), m.group(2), m.group(3)
        params = " ".join(params.split())
        args = [] if params in ("void", "") else [p.strip() for p in params.split(",")]
        # drop parameter names: "const double *a" -> "const double *"
        types = [re.sub(r"\b\w+$", "", a).strip() if not a.endswith("*") else a for a in args]
        protos[name] = (" ".join(ret.split()), [" ".join(t.replace("*", " * ").split()) for t in types])
    return protos


SCALARS = {
    "int": ctypes.c_int, "size_t": ctypes.c_size_t, "ptrdiff_t": ctypes.c_ssize_t,
    "double": ctypes.c_double, "uint64_t": ctypes.c_uint64,
}
CALLBACKS = {"nslm_progress_fn": _lib.PROGRESS_FN, "nslm_act_fn": _lib.ACT_FN,
             "nslm_loss_fn": _lib.LOSS_FN}


def accepted(ctype):
    """The ctypes declarations that faithfully pass a C type."""
    t = ctype.replace("const ", "").strip()
    if t in SCALARS:
        return [SCALARS[t]]
    if t in CALLBACKS:
        return [CALLBACKS[t]]
    if t == "void":
        return [None]
    if t == "char *":
        return [ctypes.c_char_p, ctypes.c_void_p]
    if t.endswith("* *"):            # nslm_x **out
        return [ctypes.POINTER(ctypes.c_void_p)]
    base = t[:-1].strip()
    if base.startswith("nslm_") or base == "void":
        return [ctypes.c_void_p]      # handles, user_data
    if base in SCALARS:               # arrays (c_void_p) or one value written
        return [ctypes.c_void_p, ctypes.POINTER(SCALARS[base])]
    if base == "unsigned char":
        return [ctypes.c_void_p]
    raise AssertionError("no rule for C type %r" % ctype)


def test_every_header_function_is_declared():
    protos = prototypes()
    assert len(protos) >= 60, "parsed only %d prototypes" % len(protos)
    missing = sorted(set(protos) - set(_lib.FUNCTIONS))
    assert not missing, "not declared in python/nslm/_lib.py: %s" % missing
    extra = sorted(set(_lib.FUNCTIONS) - set(protos))
    assert not extra, "declared but not in nslm.h: %s" % extra
    print("     %d functions of nslm.h declared" % len(protos))


def test_declared_types_match_prototypes():
    bad = []
    for name, (ret, params) in prototypes().items():
        restype, argtypes = _lib.FUNCTIONS[name]
        want = accepted(ret)
        got = ctypes.c_int if restype is _lib.STATUS else restype
        if got not in want:
            bad.append("%s returns %s, declared %s" % (name, ret, got))
        if len(argtypes) != len(params):
            bad.append("%s: %d parameters, %d declared" % (name, len(params), len(argtypes)))
            continue
        for i, (p, a) in enumerate(zip(params, argtypes)):
            if a not in accepted(p):
                bad.append("%s parameter %d: %s declared as %s" % (name, i, p, a))
    assert not bad, "\n".join(bad)


def test_status_functions_are_checked():
    # Functions documented to return a status have restype STATUS: the
    # header's int-returning functions that are not status returns.
    not_status = {"nslm_version_number", "nslm_params_equal", "nslm_loss_kind"}
    for name, (ret, _) in prototypes().items():
        if ret == "int" and name not in not_status:
            assert _lib.FUNCTIONS[name][0] is _lib.STATUS, "%s should be STATUS" % name


def test_library_exports_every_function():
    assert not _lib.lib.missing, "missing from %s: %s" % (_lib.lib.path, _lib.lib.missing)


def test_version_agrees():
    assert nslm.library_version() == nslm.__version__, (nslm.library_version(), nslm.__version__)
    major, minor, patch = (int(x) for x in nslm.__version__.split("."))
    assert _lib.VERSION_NUMBER == major * 10000 + minor * 100 + patch
    assert (major, minor, patch) == (_lib.API_MAJOR, _lib.API_MINOR, _lib.API_PATCH)
    assert os.path.samefile(nslm.library_path(), os.environ["NSLM_LIBRARY"])


def test_every_status_has_a_class_and_string():
    for s in nslm.Status:
        assert nslm.strerror(s) and nslm.strerror(s) != "unknown status", s
        if s != nslm.Status.OK:
            assert issubclass(nslm._errors.error_class(s), nslm.NslmError)
    assert nslm.strerror(-999) == "unknown status"


def test_help_reads_well():
    # Every public name has a docstring (help() shows it).
    for name in nslm.__all__:
        obj = getattr(nslm, name)
        assert getattr(obj, "__doc__", None), "%s has no docstring" % name


def test_overview_example_is_examples_connect_c():
    # nslm(3) shows examples/connect.c, which installcheck.sh builds and runs.
    page = open(os.path.join(pyharness.TOP_SRCDIR, "man", "nslm.3")).read()
    body = page[page.index(".EX\n") + 4:page.index("\n.EE")]
    body = body.replace("\\&", "").replace("\\e", "\\")
    src = open(os.path.join(pyharness.TOP_SRCDIR, "examples", "connect.c")).read().rstrip("\n")
    assert body == src, "man/nslm.3 EXAMPLES differs from examples/connect.c"


if __name__ == "__main__":
    run(globals())
