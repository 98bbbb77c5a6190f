"""Landscape tools: the straight line between two parameter sets, barrier
heights, 2-D slices, and their CSV and SVG output (nslm_landscape_*,
nslm_profile_write_*, nslm_plane_write_*)."""

import collections
import ctypes
import os

import numpy as np

from . import _arrays, _lib
from ._lib import lib
from .params import Params
from .path import Profile

Plane = collections.namedtuple("Plane", "alpha beta risk r")
Plane.__doc__ = """Values on a 2-D grid: alpha (na), beta (nb), risk (na x nb array,
element (i, j) at (alpha[i], beta[j])), r (the same, or None)."""


def _con(constraint):
    return constraint._ptr if constraint is not None else None


def line(net, data, loss, a, b, points=51, constraint=None, progress=None):
    """The risk (and r) at `points` equally spaced t on the straight line
    (1 - t) a + t b, each point computed as such (both ends exact).
    Returns a Profile (losses None)."""
    k = int(points)
    t, risk = np.empty(k), np.empty(k)
    r = np.empty(k) if constraint is not None else None
    cb = _lib.progress_arg(progress)
    lib.nslm_landscape_line(net._ptr, data._ptr, loss._ptr, _con(constraint), a._ptr, b._ptr, k,
                            _arrays.address(t), _arrays.address(risk),
                            _arrays.address(r) if r is not None else None, cb, None)
    return Profile(t, risk, r, None)


def barrier(t, risk):
    """(height, t_at): the barrier of a profile, max_i [L_i - ((1 - s_i) L_0
    + s_i L_last)] with s_i = (t_i - t_0) / (t_last - t_0), and where it
    occurs.  Zero or less: no barrier."""
    tv = _arrays.vector_in(t, "t")
    rv = _arrays.vector_in(risk, "risk", len(tv))
    h, at = ctypes.c_double(), ctypes.c_double()
    lib.nslm_landscape_barrier(len(tv), _arrays.address(tv), _arrays.address(rv),
                               ctypes.byref(h), ctypes.byref(at))
    return h.value, at.value


def directions(center, seed=0):
    """(d1, d2): two random directions for a plane through center, normalized
    per neuron (each row scaled to the 2-norm of center's row), d2 then
    orthogonalized against d1."""
    net_widths = center.widths
    from .net import Net
    with Net(net_widths) as net:
        d1, d2 = Params(net), Params(net)
    lib.nslm_landscape_directions(center._ptr, int(seed), d1._ptr, d2._ptr)
    return d1, d2


def _grid(spec, name):
    lo, hi, n = spec
    if int(n) < 1:
        raise ValueError("%s needs at least one point" % name)
    return float(lo), float(hi), int(n)


def _plane(fn, net, data, loss, three, alpha, beta, constraint, progress):
    amin, amax, na = _grid(alpha, "alpha")
    bmin, bmax, nb = _grid(beta, "beta")
    risk = np.empty((na, nb))
    r = np.empty((na, nb)) if constraint is not None else None
    cb = _lib.progress_arg(progress)
    fn(net._ptr, data._ptr, loss._ptr, _con(constraint), *[p._ptr for p in three], na, amin, amax,
       nb, bmin, bmax, _arrays.address(risk), nb, 1,
       _arrays.address(r) if r is not None else None, nb if r is not None else 0,
       1 if r is not None else 0, cb, None)
    return Plane(np.linspace(amin, amax, na), np.linspace(bmin, bmax, nb), risk, r)


def plane(net, data, loss, center, d1=None, d2=None, seed=0, alpha=(-1.0, 1.0, 41),
          beta=(-1.0, 1.0, 41), constraint=None, progress=None):
    """The risk on the grid of center + alpha d1 + beta d2; alpha and beta
    are (min, max, points).  Without d1, d2: directions(center, seed).
    Returns a Plane."""
    if d1 is None or d2 is None:
        d1, d2 = directions(center, seed)
    return _plane(lib.nslm_landscape_plane, net, data, loss, (center, d1, d2), alpha, beta,
                  constraint, progress)


def plane3(net, data, loss, a, b, c, alpha=(-0.25, 1.25, 41), beta=(-0.25, 1.25, 41),
           constraint=None, progress=None):
    """The risk on the plane through three parameter sets: the point at
    (alpha, beta) is (1 - alpha - beta) a + alpha b + beta c, so a, b, c sit
    at (0, 0), (1, 0), (0, 1).  Returns a Plane."""
    return _plane(lib.nslm_landscape_plane3, net, data, loss, (a, b, c), alpha, beta, constraint,
                  progress)


# ---------------------------------------------------------------- files

def _profile_args(t, risk, r):
    tv = _arrays.vector_in(t, "t")
    rv = _arrays.vector_in(risk, "risk", len(tv))
    sv = _arrays.vector_in(r, "r", len(tv)) if r is not None else None
    return tv, rv, sv


def write_profile_csv(filename, t, risk, r=None, path=None):
    """Writes a profile as CSV (t, risk[, r]; with a path, segment and kind
    columns too), atomically."""
    tv, rv, sv = _profile_args(t, risk, r)
    lib.nslm_profile_write_csv(os.fsencode(filename), path._ptr if path is not None else None,
                               len(tv), _arrays.address(tv), _arrays.address(rv),
                               _arrays.address(sv) if sv is not None else None)


def write_profile_svg(filename, t, risk, r=None, path=None, title=None):
    """Writes a profile as a dependency-free SVG plot (with a path: segment
    boundaries and kinds marked), atomically."""
    tv, rv, sv = _profile_args(t, risk, r)
    lib.nslm_profile_write_svg(os.fsencode(filename), path._ptr if path is not None else None,
                               len(tv), _arrays.address(tv), _arrays.address(rv),
                               _arrays.address(sv) if sv is not None else None,
                               title.encode() if title else None)


def _plane_values(pl, values, name):
    arr, rs, cs = _arrays.matrix_in(values, name, vector_as_column=False)
    if arr.shape != (len(pl.alpha), len(pl.beta)):
        raise ValueError("%s must have shape (%d, %d)" % (name, len(pl.alpha), len(pl.beta)))
    return arr, rs, cs


def write_plane_csv(filename, pl):
    """Writes a Plane as CSV (alpha, beta, risk[, r]), atomically."""
    risk, rrs, rcs = _plane_values(pl, pl.risk, "risk")
    if pl.r is not None:
        r, srs, scs = _plane_values(pl, pl.r, "r")
    else:
        r, srs, scs = None, 0, 0
    lib.nslm_plane_write_csv(os.fsencode(filename), len(pl.alpha), pl.alpha[0], pl.alpha[-1],
                             len(pl.beta), pl.beta[0], pl.beta[-1], _arrays.address(risk), rrs,
                             rcs, _arrays.address(r) if r is not None else None, srs, scs)


def write_plane_svg(filename, pl, values=None, marks=(), title=None):
    """Writes a heat map with contour lines of a Plane's risk (or of values
    on its grid), with marks (alpha, beta) drawn as points, atomically."""
    vals, rs, cs = _plane_values(pl, pl.risk if values is None else values, "values")
    mk = np.ascontiguousarray(np.asarray(marks, dtype=np.float64).reshape(-1, 2))
    lib.nslm_plane_write_svg(os.fsencode(filename), len(pl.alpha), pl.alpha[0], pl.alpha[-1],
                             len(pl.beta), pl.beta[0], pl.beta[-1], _arrays.address(vals), rs, cs,
                             len(mk), _arrays.address(mk) if len(mk) else None,
                             title.encode() if title else None)
