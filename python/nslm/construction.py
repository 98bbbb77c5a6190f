"""The construction of the paper: compression, relocation, connect, descent,
the widths they need, global minimizers (nslm_compress, nslm_connect, ...)."""

import collections
import ctypes
import enum

import numpy as np

from . import _arrays
from ._handle import Handle, create
from ._lib import lib
from .params import Params
from .path import Path


class CompressMode(enum.IntEnum):
    """Compression modes (NSLM_COMPRESS_*)."""

    ROW = 0     #: per-row Caratheodory, q = 1: r(Theta) never increases
    JOINT = 1   #: rank-revealing basis of A_j: width rank(A_j) <= n, may raise r
    SHARED = 2  #: rows prefer units already in use, within the r budget


class _Key(enum.IntEnum):
    MODE = 0
    RANK_TOL = 1
    NUM_THREADS = 2
    GLOBAL_TOL = 3
    GLOBAL_MAX_ITER = 4
    AVOID = 5
    PARALLEL = 6


_INT_KEYS = {_Key.MODE, _Key.NUM_THREADS, _Key.GLOBAL_MAX_ITER, _Key.AVOID, _Key.PARALLEL}


def compress_mode(mode):
    """CompressMode from a CompressMode, an int or a name ('row', ...)."""
    if isinstance(mode, str):
        try:
            return CompressMode[mode.strip().upper()]
        except KeyError:
            raise ValueError("unknown compression mode %r (row, joint, shared)" % (mode,))
    return CompressMode(mode)


class ConstructOptions(Handle):
    """Options of the construction calls; keyword arguments set them:

    mode: 'row' (default), 'joint' or 'shared';
    rank_tol: relative rank tolerance in [0, 1) (default 1e-13);
    num_threads: BLIS threads, 0 = the net's;
    global_tol, global_max_iter: the convex solver of global_minimize;
    avoid: JOINT mode picks Gamma's basis off Theta's units when it can;
    parallel: compress Theta and Gamma side by side, each on half the
    threads: 0 never, 1 when large (default), 2 always.

    Each is also a read/write attribute.  The calls of this module accept
    these keywords directly, or options=ConstructOptions(...).
    """

    _destroy = "nslm_construct_opts_destroy"

    def __init__(self, **kwargs):
        super().__init__()
        self._h = create(lib.nslm_construct_opts_create)
        for k, v in kwargs.items():
            setattr(self, k, v)

    def _get(self, key):
        if key in _INT_KEYS:
            v = ctypes.c_int()
            lib.nslm_construct_opts_get_int(self._ptr, key, ctypes.byref(v))
        else:
            v = ctypes.c_double()
            lib.nslm_construct_opts_get_double(self._ptr, key, ctypes.byref(v))
        return v.value

    def _set(self, key, value):
        if key in _INT_KEYS:
            lib.nslm_construct_opts_set_int(self._ptr, key, int(value))
        else:
            lib.nslm_construct_opts_set_double(self._ptr, key, float(value))

    def __setattr__(self, name, value):
        key = name.upper()
        if key in _Key.__members__:
            if key == "MODE":
                value = compress_mode(value)
            self._set(_Key[key], value)
        elif name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            raise AttributeError("unknown construction option %r" % name)

    def __getattr__(self, name):
        key = name.upper()
        if not name.startswith("_") and key in _Key.__members__:
            v = self._get(_Key[key])
            return CompressMode(v).name.lower() if key == "MODE" else v
        raise AttributeError(name)

    def __repr__(self):
        if self.closed:
            return "<nslm.ConstructOptions closed>"
        return "<nslm.ConstructOptions %s>" % ", ".join(
            "%s=%s" % (k.name.lower(), getattr(self, k.name.lower())) for k in _Key)


def _options(options, kwargs):
    """(handle or None, object to keep alive) from options= and keywords."""
    if options is not None and kwargs:
        raise TypeError("give options= or keyword options, not both")
    if kwargs:
        options = ConstructOptions(**kwargs)
    return (options._ptr if options is not None else None), options


def _h(obj):
    return obj._ptr if obj is not None else None


def _mask(masks, widths, name):
    """A concatenated uint8 mask over hidden layers 1..l from a flat array
    or a list of l per-layer arrays."""
    hidden = widths[1:-1]
    if isinstance(masks, (list, tuple)) and len(masks) == len(hidden) and all(
            np.ndim(m) == 1 for m in masks):
        for j, (m, p) in enumerate(zip(masks, hidden), 1):
            if len(m) != p:
                raise ValueError("%s[%d] has %d entries for a layer of width %d"
                                 % (name, j - 1, len(m), p))
        flat = np.concatenate([np.asarray(m) for m in masks]) if hidden else np.zeros(0)
    else:
        flat = np.asarray(masks).reshape(-1)
    return np.ascontiguousarray(flat != 0, dtype=np.uint8)


# ---------------------------------------------------------------- units and blocks

def active_units(theta, j):
    """Boolean mask of the active units of hidden layer j (1..l): row k of
    Theta^(j-1) or column k of Theta^j nonzero."""
    p = theta.widths[j] if 1 <= j < len(theta.widths) - 1 else 0
    mask = np.zeros(p, dtype=np.uint8)
    count = ctypes.c_size_t()
    lib.nslm_params_active_units(theta._ptr, int(j), _arrays.address(mask) if p else None, p,
                                 ctypes.byref(count))
    return mask.astype(bool)


def active_widths(theta):
    """The number of active units of every hidden layer."""
    out = []
    for j in range(1, theta.depth + 1):
        count = ctypes.c_size_t()
        lib.nslm_params_active_units(theta._ptr, j, None, 0, ctypes.byref(count))
        out.append(count.value)
    return out


def is_upper_block(theta, s):
    """Definition 3: every hidden unit k > s (1-based) is inactive."""
    r = ctypes.c_int()
    lib.nslm_params_is_upper_block(theta._ptr, int(s), ctypes.byref(r))
    return bool(r.value)


def is_lower_block(theta, s):
    """Definition 3: every hidden unit k <= p_j - s (1-based) is inactive."""
    r = ctypes.c_int()
    lib.nslm_params_is_lower_block(theta._ptr, int(s), ctypes.byref(r))
    return bool(r.value)


def is_block(theta, masks):
    """Every unit outside masks (one per hidden layer, or concatenated) is
    inactive."""
    m = _mask(masks, theta.widths, "masks")
    r = ctypes.c_int()
    lib.nslm_params_is_block(theta._ptr, _arrays.address(m), len(m), ctypes.byref(r))
    return bool(r.value)


def permute_units(theta, perms):
    """Lemma 3: a new Params with the hidden units of layer j reordered by
    perms[j-1] (0-based permutations, one per hidden layer, or
    concatenated): out^j[u][v] = theta^j[P_(j+1)[u]][P_j[v]].  The network
    function is unchanged."""
    if isinstance(perms, (list, tuple)) and perms and np.ndim(perms[0]) == 1:
        flat = np.concatenate([np.asarray(p) for p in perms])
    else:
        flat = np.asarray(perms).reshape(-1)
    arr = np.ascontiguousarray(flat, dtype=np.uintp)
    if np.any(flat < 0):
        raise ValueError("permutations must be nonnegative")
    out = theta.copy()
    lib.nslm_params_permute_units(out._ptr, theta._ptr, _arrays.address(arr), len(arr))
    return out


# ---------------------------------------------------------------- the construction

CompressResult = collections.namedtuple("CompressResult", "params path active r_before r_after")
CompressResult.__doc__ = """Result of compress(): the block parameter, its constant-risk path
from Theta (None if path=False), the active width per hidden layer, and
r(Theta), r(Theta-bar) (0 when unconstrained)."""

GlobalMinimum = collections.namedtuple("GlobalMinimum", "params rank certified grad_norm")
GlobalMinimum.__doc__ = """Result of global_minimize(): the minimizer, rank(A_l), whether it is
certified to be a global minimizer of the whole problem (rank(A_l) = n and
the solver met its tolerance), and the gradient norm in Theta^l."""


def compress(net, theta, data, constraint=None, path=True, options=None, **opts):
    """Compresses theta to a block parameter computing the same outputs on
    every training sample (DESIGN 2.2).  Returns a CompressResult.  Keyword
    options as ConstructOptions (e.g. mode='joint')."""
    h, keep = _options(options, opts)
    out = Params(net)
    l = net.depth
    active = (ctypes.c_size_t * l)()
    pp = ctypes.c_void_p()
    r0, r1 = ctypes.c_double(), ctypes.c_double()
    lib.nslm_compress(net._ptr, theta._ptr, data._ptr, _h(constraint), h, out._ptr,
                      ctypes.byref(pp) if path else None, ctypes.addressof(active), l,
                      ctypes.byref(r0), ctypes.byref(r1))
    del keep
    p = Path._wrap(pp.value, net) if path else None
    return CompressResult(out, p, list(active), r0.value, r1.value)


def compress_widths(net, theta, data, constraint=None, options=None, **opts):
    """The active width per hidden layer that compress() would give."""
    h, keep = _options(options, opts)
    l = net.depth
    active = (ctypes.c_size_t * l)()
    lib.nslm_compress_widths(net._ptr, theta._ptr, data._ptr, _h(constraint), h,
                             ctypes.addressof(active), l)
    del keep
    return list(active)


def relocate(net, theta, avoid, path=True):
    """Moves the active units of theta that lie in avoid (per-layer masks or
    concatenated) to free units, by constant segments (DESIGN 2.3).
    Returns (params, path or None).  TooNarrowError if units are lacking."""
    m = _mask(avoid, net.widths, "avoid")
    out = Params(net)
    pp = ctypes.c_void_p()
    lib.nslm_relocate(net._ptr, theta._ptr, _arrays.address(m), len(m), out._ptr,
                      ctypes.byref(pp) if path else None)
    return out, (Path._wrap(pp.value, net) if path else None)


def connect(net, theta, gamma, data, constraint=None, options=None, **opts):
    """The theorem's path from theta to gamma (DESIGN 2.5): constant, one
    convex segment, constant.  TooNarrowError when a layer is too narrow."""
    h, keep = _options(options, opts)
    pp = ctypes.c_void_p()
    lib.nslm_connect(net._ptr, theta._ptr, gamma._ptr, data._ptr, _h(constraint), h,
                     ctypes.byref(pp))
    del keep
    return Path._wrap(pp.value, net)


def descent(net, theta, gamma, data, loss, constraint=None, options=None, **opts):
    """The connect path cut at the minimizer of the risk on its convex
    segment: the risk never increases and ends at most at
    min(L(theta), L(gamma)).  Returns (path, cut) with cut in [0, 1]."""
    h, keep = _options(options, opts)
    pp = ctypes.c_void_p()
    cut = ctypes.c_double()
    lib.nslm_descent(net._ptr, theta._ptr, gamma._ptr, data._ptr, loss._ptr, _h(constraint), h,
                     ctypes.byref(pp), ctypes.byref(cut))
    del keep
    return Path._wrap(pp.value, net), cut.value


def connect_widths(net, theta, gamma, data, constraint=None, options=None, **opts):
    """(needed, fits): s_j(theta) + s_j(gamma) per hidden layer after the
    compressions connect() would do, and whether every layer has room."""
    h, keep = _options(options, opts)
    l = net.depth
    needed = (ctypes.c_size_t * l)()
    fits = ctypes.c_int()
    lib.nslm_connect_widths(net._ptr, theta._ptr, gamma._ptr, data._ptr, _h(constraint), h,
                            ctypes.addressof(needed), l, ctypes.byref(fits))
    del keep
    return list(needed), bool(fits.value)


def global_minimize(net, theta, data, loss, options=None, **opts):
    """Minimizes the risk over the last layer with the inner layers of theta
    fixed (unconstrained; DESIGN 2.6).  Returns a GlobalMinimum."""
    h, keep = _options(options, opts)
    out = Params(net)
    rank, cert, gn = ctypes.c_size_t(), ctypes.c_int(), ctypes.c_double()
    lib.nslm_global_minimize(net._ptr, theta._ptr, data._ptr, loss._ptr, h, out._ptr,
                             ctypes.byref(rank), ctypes.byref(cert), ctypes.byref(gn))
    del keep
    return GlobalMinimum(out, rank.value, bool(cert.value), gn.value)


def penalized_report(net, path, data, loss, constraint, lam, samples=16, tol=1e-10):
    """The penalized objective L + lam r along path, sampled: returns (rise,
    nonincreasing), per segment the largest relative increase and whether
    it is <= tol.  A sampled report, not a proof."""
    S = path.num_segments
    rise = np.zeros(S)
    nonincreasing = np.zeros(S, dtype=np.intc)
    lib.nslm_penalized_report(net._ptr, path._ptr, data._ptr, loss._ptr, _h(constraint),
                              float(lam), int(samples), float(tol),
                              _arrays.address(rise) if S else None,
                              _arrays.address(nonincreasing) if S else None, S)
    return rise, nonincreasing.astype(bool)
