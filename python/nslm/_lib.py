"""Loading libnslm and declaring every function of nslm.h for ctypes.

Where the library comes from, first match wins:

1. the environment variable NSLM_LIBRARY (a path to libnslm.so.*);
2. the build tree, when the package is imported from the source tree of
   an in-tree build (../lib/.libs/libnslm.so relative to python/);
   a VPATH build's tests set NSLM_LIBRARY from top_builddir;
3. the library directory recorded at ``make install`` (_config.LIBDIR);
4. ctypes.util.find_library("nslm"), then the soname libnslm.so.0.

Every function gets argtypes and restype (tests/test_python_api.py checks
the table against include/nslm.h).  Functions returning a status are
wrapped so that a negative status raises the matching NslmError subclass
with the detail message.  A function the loaded library lacks (an older
library) is replaced by a stub raising UnsupportedError when called.
"""

import ctypes
import ctypes.util
import os
import threading

from . import _errors

# The package is written against this version of nslm.h: the loaded
# library must have the same major version and at least this minor.
API_MAJOR = 0
API_MINOR = 1
API_PATCH = 0

c_int, c_double, c_size_t, c_ssize_t = ctypes.c_int, ctypes.c_double, ctypes.c_size_t, ctypes.c_ssize_t
c_uint64, c_void_p, c_char_p = ctypes.c_uint64, ctypes.c_void_p, ctypes.c_char_p
P = ctypes.POINTER

# Callback types of nslm.h.  Python must keep the CFUNCTYPE objects alive
# while the library may call them: the classes of this package hold them.
PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_double, c_void_p)
ACT_FN = ctypes.CFUNCTYPE(c_int, P(c_double), c_size_t, c_void_p)
LOSS_FN = ctypes.CFUNCTYPE(c_int, P(c_double), P(c_double), c_size_t, P(c_double), P(c_double),
                           c_void_p)

# Marker restype: an int status (checked, raising on failure).
STATUS = "status"

H = c_void_p          # an opaque handle (nslm_net *, const nslm_params *, ...)
HP = P(c_void_p)      # an out-parameter for a handle (nslm_net **)
BUF = c_void_p        # an array of doubles / bytes, passed as an address
DP = P(c_double)      # one double written by the call
ZP = P(c_size_t)      # one size_t written by the call
IP = P(c_int)         # one int written by the call

# name: (restype, [argtypes]).  Kept in the order of nslm.h.
FUNCTIONS = {
    # version and status
    "nslm_version_number": (c_int, []),
    "nslm_version_string": (c_char_p, []),
    "nslm_strerror": (c_char_p, [c_int]),
    "nslm_last_error": (c_char_p, []),
    "nslm_last_error_copy": (STATUS, [BUF, c_size_t, ZP]),
    # networks
    "nslm_net_create": (STATUS, [HP, c_size_t, BUF]),
    "nslm_net_destroy": (None, [H]),
    "nslm_net_set_activation": (STATUS, [H, c_size_t, c_int, c_double, c_double]),
    "nslm_net_set_activation_callback": (STATUS, [H, c_size_t, ACT_FN, ACT_FN, c_void_p]),
    "nslm_net_get_activation": (STATUS, [H, c_size_t, IP, DP, DP]),
    "nslm_net_set_num_threads": (STATUS, [H, c_size_t]),
    "nslm_net_num_threads": (c_size_t, [H]),
    "nslm_net_depth": (c_size_t, [H]),
    "nslm_net_width": (c_size_t, [H, c_size_t]),
    "nslm_net_paper_width_bound": (c_size_t, [H, c_size_t]),
    # parameters
    "nslm_params_create": (STATUS, [HP, H]),
    "nslm_params_destroy": (None, [H]),
    "nslm_params_clone": (STATUS, [HP, H]),
    "nslm_params_assign": (STATUS, [H, H]),
    "nslm_params_depth": (c_size_t, [H]),
    "nslm_params_layer_shape": (STATUS, [H, c_size_t, ZP, ZP]),
    "nslm_params_set_layer": (STATUS, [H, c_size_t, c_size_t, c_size_t, BUF, c_ssize_t, c_ssize_t]),
    "nslm_params_get_layer": (STATUS, [H, c_size_t, c_size_t, c_size_t, BUF, c_ssize_t, c_ssize_t]),
    "nslm_params_init_random": (STATUS, [H, c_uint64, c_int, c_double]),
    "nslm_params_interpolate": (STATUS, [H, H, H, c_double]),
    "nslm_params_row_support": (STATUS, [H, c_size_t, BUF, c_size_t]),
    "nslm_params_col_support": (STATUS, [H, c_size_t, BUF, c_size_t]),
    "nslm_params_equal": (c_int, [H, H]),
    # data
    "nslm_data_create": (STATUS, [HP, c_size_t, c_size_t, BUF, c_ssize_t, c_ssize_t, c_size_t, BUF,
                                  c_ssize_t, c_ssize_t]),
    "nslm_data_destroy": (None, [H]),
    "nslm_data_n": (c_size_t, [H]),
    "nslm_data_d": (c_size_t, [H]),
    "nslm_data_m": (c_size_t, [H]),
    "nslm_data_get_x": (STATUS, [H, BUF, c_ssize_t, c_ssize_t]),
    "nslm_data_get_y": (STATUS, [H, BUF, c_ssize_t, c_ssize_t]),
    # losses
    "nslm_loss_create": (STATUS, [HP, c_int, c_double]),
    "nslm_loss_create_callback": (STATUS, [HP, LOSS_FN, c_void_p]),
    "nslm_loss_destroy": (None, [H]),
    "nslm_loss_kind": (c_int, [H]),
    "nslm_loss_eval": (STATUS, [H, c_size_t, BUF, BUF, DP, BUF]),
    # constraint
    "nslm_constraint_create": (STATUS, [HP, c_double, c_double, c_double]),
    "nslm_constraint_destroy": (None, [H]),
    "nslm_constraint_get": (STATUS, [H, DP, DP, DP]),
    "nslm_constraint_eval": (STATUS, [H, H, DP]),
    "nslm_constraint_row_norms": (STATUS, [H, H, c_size_t, BUF, c_size_t]),
    "nslm_constraint_feasible": (STATUS, [H, H, IP]),
    "nslm_matrix_row_norm": (STATUS, [c_size_t, c_size_t, BUF, c_ssize_t, c_ssize_t, c_double, DP]),
    # evaluation
    "nslm_eval_outputs": (STATUS, [H, H, H, BUF, c_ssize_t, c_ssize_t]),
    "nslm_eval_losses": (STATUS, [H, H, H, H, BUF, c_size_t]),
    "nslm_eval_risk": (STATUS, [H, H, H, H, DP]),
    "nslm_eval_objective": (STATUS, [H, H, H, H, H, c_double, DP]),
    "nslm_eval_features": (STATUS, [H, H, H, c_size_t, BUF, c_ssize_t, c_ssize_t]),
    "nslm_eval_gradient": (STATUS, [H, H, H, H, H, DP]),
    # files
    "nslm_npy_read": (STATUS, [c_char_p, BUF, c_size_t, ZP, ZP]),
    "nslm_npy_write": (STATUS, [c_char_p, c_size_t, c_size_t, BUF, c_ssize_t, c_ssize_t]),
    "nslm_params_save": (STATUS, [H, c_char_p]),
    "nslm_params_load": (STATUS, [HP, c_char_p]),
    "nslm_net_create_for": (STATUS, [HP, H]),
    # the Caratheodory reduction
    "nslm_caratheodory_default_rank_tol": (c_double, []),
    "nslm_caratheodory_opts_create": (STATUS, [HP]),
    "nslm_caratheodory_opts_destroy": (None, [H]),
    "nslm_caratheodory_opts_set_int": (STATUS, [H, c_int, c_int]),
    "nslm_caratheodory_opts_get_int": (STATUS, [H, c_int, IP]),
    "nslm_caratheodory_opts_set_double": (STATUS, [H, c_int, c_double]),
    "nslm_caratheodory_opts_get_double": (STATUS, [H, c_int, DP]),
    "nslm_caratheodory_opts_set_progress": (STATUS, [H, PROGRESS_FN, c_void_p]),
    "nslm_caratheodory_reduce": (STATUS, [c_size_t, c_size_t, BUF, c_ssize_t, c_ssize_t, BUF,
                                          c_ssize_t, c_double, H, BUF, c_ssize_t, ZP, DP, DP, DP,
                                          DP, ZP]),
    "nslm_caratheodory_reduce_rows": (STATUS, [c_size_t, c_size_t, BUF, c_ssize_t, c_ssize_t,
                                               c_size_t, BUF, c_ssize_t, c_ssize_t, c_double, H,
                                               BUF, c_ssize_t, c_ssize_t, BUF, BUF, BUF, BUF, BUF,
                                               BUF, ZP]),
    # paths
    "nslm_path_create": (STATUS, [HP, H, H]),
    "nslm_path_append": (STATUS, [H, H, c_int]),
    "nslm_path_extend": (STATUS, [H, H]),
    "nslm_path_destroy": (None, [H]),
    "nslm_path_clone": (STATUS, [HP, H]),
    "nslm_path_reverse": (STATUS, [HP, H]),
    "nslm_path_num_knots": (c_size_t, [H]),
    "nslm_path_num_segments": (c_size_t, [H]),
    "nslm_path_get_knot": (STATUS, [H, c_size_t, H]),
    "nslm_path_segment_kind": (STATUS, [H, c_size_t, IP]),
    "nslm_path_segment_layers": (STATUS, [H, c_size_t, BUF, c_size_t]),
    "nslm_path_point": (STATUS, [H, c_double, H]),
    "nslm_path_set_segment_kind": (STATUS, [H, c_size_t, c_int]),
    "nslm_path_set_nonincreasing": (STATUS, [H, c_int]),
    "nslm_path_get_nonincreasing": (STATUS, [H, IP]),
    "nslm_path_stored_values": (c_size_t, [H]),
    "nslm_path_grid_size": (c_size_t, [H, c_size_t]),
    "nslm_path_eval": (STATUS, [H, H, H, H, H, c_size_t, BUF, BUF, BUF, BUF, c_ssize_t, c_ssize_t,
                                c_int, PROGRESS_FN, c_void_p]),
    "nslm_path_eval_grid": (STATUS, [H, H, H, H, H, c_size_t, c_size_t, BUF, BUF, BUF, BUF,
                                     c_ssize_t, c_ssize_t, c_int, PROGRESS_FN, c_void_p]),
    # certificates
    "nslm_certificate_default_tolerance": (c_double, []),
    "nslm_path_certify": (STATUS, [HP, H, H, H, H, H, c_int, c_size_t, PROGRESS_FN, c_void_p]),
    "nslm_certificate_destroy": (None, [H]),
    "nslm_certificate_kind": (STATUS, [H, IP]),
    "nslm_certificate_num_segments": (c_size_t, [H]),
    "nslm_certificate_get": (STATUS, [H, c_int, DP]),
    "nslm_certificate_segment": (STATUS, [H, c_size_t, IP, DP, IP]),
    "nslm_certificate_set_tolerance": (STATUS, [H, c_int, c_double]),
    "nslm_certificate_get_tolerance": (STATUS, [H, c_int, DP]),
    "nslm_certificate_passed": (STATUS, [H, IP]),
    "nslm_certificate_summary": (STATUS, [H, BUF, c_size_t, ZP]),
    # the descent cut, files
    "nslm_path_descent": (STATUS, [HP, H, H, H, H, DP, DP, PROGRESS_FN, c_void_p]),
    "nslm_path_save": (STATUS, [H, c_char_p]),
    "nslm_path_load": (STATUS, [HP, c_char_p]),
    # landscape
    "nslm_landscape_line": (STATUS, [H, H, H, H, H, H, c_size_t, BUF, BUF, BUF, PROGRESS_FN,
                                     c_void_p]),
    "nslm_landscape_barrier": (STATUS, [c_size_t, BUF, BUF, DP, DP]),
    "nslm_landscape_directions": (STATUS, [H, c_uint64, H, H]),
    "nslm_landscape_plane": (STATUS, [H, H, H, H, H, H, H, c_size_t, c_double, c_double, c_size_t,
                                      c_double, c_double, BUF, c_ssize_t, c_ssize_t, BUF,
                                      c_ssize_t, c_ssize_t, PROGRESS_FN, c_void_p]),
    "nslm_landscape_plane3": (STATUS, [H, H, H, H, H, H, H, c_size_t, c_double, c_double,
                                       c_size_t, c_double, c_double, BUF, c_ssize_t, c_ssize_t,
                                       BUF, c_ssize_t, c_ssize_t, PROGRESS_FN, c_void_p]),
    # CSV and SVG output
    "nslm_profile_write_csv": (STATUS, [c_char_p, H, c_size_t, BUF, BUF, BUF]),
    "nslm_profile_write_svg": (STATUS, [c_char_p, H, c_size_t, BUF, BUF, BUF, c_char_p]),
    "nslm_plane_write_csv": (STATUS, [c_char_p, c_size_t, c_double, c_double, c_size_t, c_double,
                                      c_double, BUF, c_ssize_t, c_ssize_t, BUF, c_ssize_t,
                                      c_ssize_t]),
    "nslm_plane_write_svg": (STATUS, [c_char_p, c_size_t, c_double, c_double, c_size_t, c_double,
                                      c_double, BUF, c_ssize_t, c_ssize_t, c_size_t, BUF,
                                      c_char_p]),
    # construction
    "nslm_construct_opts_create": (STATUS, [HP]),
    "nslm_construct_opts_destroy": (None, [H]),
    "nslm_construct_opts_set_int": (STATUS, [H, c_int, c_int]),
    "nslm_construct_opts_set_double": (STATUS, [H, c_int, c_double]),
    "nslm_construct_opts_get_int": (STATUS, [H, c_int, IP]),
    "nslm_construct_opts_get_double": (STATUS, [H, c_int, DP]),
    "nslm_params_active_units": (STATUS, [H, c_size_t, BUF, c_size_t, ZP]),
    "nslm_params_is_upper_block": (STATUS, [H, c_size_t, IP]),
    "nslm_params_is_lower_block": (STATUS, [H, c_size_t, IP]),
    "nslm_params_is_block": (STATUS, [H, BUF, c_size_t, IP]),
    "nslm_params_permute_units": (STATUS, [H, H, BUF, c_size_t]),
    "nslm_compress": (STATUS, [H, H, H, H, H, H, HP, BUF, c_size_t, DP, DP]),
    "nslm_relocate": (STATUS, [H, H, BUF, c_size_t, H, HP]),
    "nslm_connect": (STATUS, [H, H, H, H, H, H, HP]),
    "nslm_descent": (STATUS, [H, H, H, H, H, H, H, HP, DP]),
    "nslm_compress_widths": (STATUS, [H, H, H, H, H, BUF, c_size_t]),
    "nslm_connect_widths": (STATUS, [H, H, H, H, H, H, BUF, c_size_t, IP]),
    "nslm_global_minimize": (STATUS, [H, H, H, H, H, H, ZP, IP, DP]),
    "nslm_penalized_report": (STATUS, [H, H, H, H, H, c_double, c_size_t, c_double, BUF, BUF,
                                       c_size_t]),
}


class _Library:
    """The loaded library: one attribute per function of nslm.h."""

    def __init__(self, cdll, path):
        self._cdll = cdll
        self.path = path
        self.missing = []
        for name, (restype, argtypes) in FUNCTIONS.items():
            try:
                fn = getattr(cdll, name)
            except AttributeError:
                self.missing.append(name)
                setattr(self, name, _missing(name))
                continue
            fn.argtypes = argtypes
            if restype is STATUS:
                fn.restype = c_int
                fn.errcheck = _check_status
            else:
                fn.restype = restype
            setattr(self, name, fn)


def _missing(name):
    def stub(*args):
        raise _errors.UnsupportedError(_errors.Status.UNSUPPORTED,
                                       "function missing from the loaded library",
                                       "%s is not in %s (an older libnslm?)" % (name, lib.path),
                                       name)
    stub.__name__ = name
    return stub


def _check_status(result, func, args):
    """errcheck of every status-returning function: raise on failure."""
    if result >= 0:
        return result
    raise status_error(result, func.__name__)


# A Python exception raised inside a callback (activation, loss, progress)
# cannot cross the C library; the callback stores it here (per thread) and
# returns nonzero, and the failing call's NslmError chains it as __cause__.
_pending = threading.local()


def stash_exception(exc):
    """Called by callback wrappers: remember exc for the failing call."""
    _pending.exc = exc


def _never(fraction):
    return False


def progress_arg(fn):
    """The nslm_progress_fn argument for a Python callable fn(fraction),
    whose truthy return cancels the call (NULL for None).  An exception in
    fn (KeyboardInterrupt included) cancels the call and is re-raised by
    it.  The caller keeps the returned object alive during the call."""
    if fn is None:
        # Still a callback: Python checks for Ctrl-C when it runs, so a
        # KeyboardInterrupt stops long calls cleanly.
        fn = _never

    def trampoline(fraction, user_data):
        try:
            return 1 if fn(fraction) else 0
        except BaseException as e:  # noqa: B902 - reported through the status
            stash_exception(e)
            return 1
    return PROGRESS_FN(trampoline)


def status_error(status, function=""):
    """The exception for a failed call, carrying the thread's detail."""
    detail = lib._cdll.nslm_last_error()
    message = lib._cdll.nslm_strerror(status)
    err = _errors.error_class(status)(status, _text(message), _text(detail), function)
    cause = getattr(_pending, "exc", None)
    _pending.exc = None
    if cause is not None and status in (_errors.Status.CALLBACK, _errors.Status.CANCELLED):
        if not isinstance(cause, Exception):
            return cause  # KeyboardInterrupt, SystemExit: re-raised as they are
        err.__cause__ = cause
    return err


def _text(b):
    return b.decode("utf-8", "replace") if b else ""


def _candidates():
    env = os.environ.get("NSLM_LIBRARY")
    if env:
        # An explicit choice: use it or fail, never fall back silently.
        return [env], True
    here = os.path.dirname(os.path.abspath(__file__))
    found = []
    # In-tree build: python/nslm/ -> ../../lib/.libs/
    tree = os.path.join(here, os.pardir, os.pardir, "lib", ".libs", "libnslm.so")
    if os.path.exists(tree):
        found.append(os.path.normpath(tree))
    try:
        from . import _config  # written by make install
        found.append(os.path.join(_config.LIBDIR, "libnslm.so.%d" % API_MAJOR))
    except ImportError:
        pass
    name = ctypes.util.find_library("nslm")
    if name:
        found.append(name)
    found.append("libnslm.so.%d" % API_MAJOR)
    return found, False


def _load():
    names, explicit = _candidates()
    errors = []
    for name in names:
        try:
            cdll = ctypes.CDLL(name)
            cdll.nslm_last_error.restype = c_char_p
            cdll.nslm_last_error.argtypes = []
            cdll.nslm_strerror.restype = c_char_p
            cdll.nslm_strerror.argtypes = [c_int]
        except (OSError, AttributeError) as e:
            errors.append("%s: %s" % (name, e))
            if explicit:
                break
            continue
        return cdll, name
    raise ImportError("nslm: cannot load libnslm (set NSLM_LIBRARY to the path of "
                      "libnslm.so.%d, or install the library): %s" % (API_MAJOR, "; ".join(errors)))


def _check_version(cdll, path):
    cdll.nslm_version_number.restype = c_int
    cdll.nslm_version_number.argtypes = []
    number = cdll.nslm_version_number()
    major, minor = number // 10000, number // 100 % 100
    if major != API_MAJOR or minor < API_MINOR:
        raise ImportError("nslm: %s is libnslm %d.%d.%d; this package needs %d.x with x >= %d"
                          % (path, major, minor, number % 100, API_MAJOR, API_MINOR))
    return number


_cdll, _path = _load()
VERSION_NUMBER = _check_version(_cdll, _path)
lib = _Library(_cdll, _path)
