"""The q-convex Caratheodory reduction (nslm_caratheodory_*)."""

import collections
import ctypes

import numpy as np

from . import _arrays, _lib
from ._handle import Handle, create
from ._lib import lib

TIGHT, PAPER = 0, 1
_MODE, _THREADS, _RANK_TOL = 0, 1, 2

Reduction = collections.namedtuple(
    "Reduction", "t nnz residual bound norm_before norm_after rank")
Reduction.__doc__ = """Result of caratheodory_reduce: the reduced coefficients t', their
nonzeros, the relative residual ||sum (t'-t)_j z_j|| / sum |t_j| ||z_j||, its
bound, (sum |t_j|^q)^(1/q) before and after, and the numerical rank of Z."""

RowsReduction = collections.namedtuple(
    "RowsReduction", "w nnz used residual bound norm_before norm_after rank")
RowsReduction.__doc__ = """Result of caratheodory_reduce_rows: the reduced rows, and per row the
nonzeros, residual, bound and q-norms before and after; used marks the
columns some reduced row uses (the union of the supports)."""


def default_rank_tol():
    """The default relative rank tolerance."""
    return lib.nslm_caratheodory_default_rank_tol()


class CaratheodoryOptions(Handle):
    """Options of the reduction: mode 'tight' (default: at most rank(Z)
    nonzeros) or 'paper' (the lemma as stated: at most r + 1), num_threads,
    rank_tol (singular values above rank_tol * sigma_1 count), progress (a
    callable(fraction), called after each reduced row; truthy cancels)."""

    _destroy = "nslm_caratheodory_opts_destroy"

    def __init__(self, mode=None, num_threads=None, rank_tol=None, progress=None):
        super().__init__()
        self._h = create(lib.nslm_caratheodory_opts_create)
        self._progress = None
        if mode is not None:
            self.mode = mode
        if num_threads is not None:
            self.num_threads = num_threads
        if rank_tol is not None:
            self.rank_tol = rank_tol
        if progress is not None:
            self.set_progress(progress)

    def _geti(self, key):
        v = ctypes.c_int()
        lib.nslm_caratheodory_opts_get_int(self._ptr, key, ctypes.byref(v))
        return v.value

    @property
    def mode(self):
        """'tight' or 'paper'."""
        return "paper" if self._geti(_MODE) == PAPER else "tight"

    @mode.setter
    def mode(self, m):
        value = {"tight": TIGHT, "paper": PAPER}.get(m, m)
        if value not in (TIGHT, PAPER):
            raise ValueError("mode must be 'tight' or 'paper' (got %r)" % (m,))
        lib.nslm_caratheodory_opts_set_int(self._ptr, _MODE, value)

    @property
    def num_threads(self):
        """BLIS threads (0: the default)."""
        return self._geti(_THREADS)

    @num_threads.setter
    def num_threads(self, n):
        lib.nslm_caratheodory_opts_set_int(self._ptr, _THREADS, int(n))

    @property
    def rank_tol(self):
        """The relative rank tolerance."""
        v = ctypes.c_double()
        lib.nslm_caratheodory_opts_get_double(self._ptr, _RANK_TOL, ctypes.byref(v))
        return v.value

    @rank_tol.setter
    def rank_tol(self, tol):
        lib.nslm_caratheodory_opts_set_double(self._ptr, _RANK_TOL, float(tol))

    def set_progress(self, fn):
        """Progress callback fn(fraction); truthy return cancels (None: no
        callback).  The options keep it alive."""
        cb = _lib.progress_arg(fn) if fn is not None else _lib.PROGRESS_FN()
        lib.nslm_caratheodory_opts_set_progress(self._ptr, cb, None)
        self._progress = cb


def _options(options, kwargs):
    if options is not None and kwargs:
        raise TypeError("give options= or keyword options, not both")
    if kwargs:
        options = CaratheodoryOptions(**kwargs)
    return (options._ptr if options is not None else None), options


def caratheodory_reduce(z, t, q=1.0, options=None, **opts):
    """Reduces sum_j t_j z_j (z_j the rows of the h x r matrix z) to at most
    rank(z) nonzero coefficients with the same sum, the same signs and no
    larger sum |t_j|^q, q in (0, 1].  Returns a Reduction."""
    za, zrs, zcs = _arrays.matrix_in(z, "z", vector_as_column=False)
    tv = _arrays.vector_in(t, "t", za.shape[0])
    h, keep = _options(options, opts)
    tout = np.empty_like(tv)
    nnz, rank = ctypes.c_size_t(), ctypes.c_size_t()
    res, bnd, nb, na = (ctypes.c_double() for _ in range(4))
    lib.nslm_caratheodory_reduce(za.shape[0], za.shape[1], _arrays.address(za), zrs, zcs,
                                 _arrays.address(tv), 1, float(q), h, _arrays.address(tout), 1,
                                 ctypes.byref(nnz), ctypes.byref(res), ctypes.byref(bnd),
                                 ctypes.byref(nb), ctypes.byref(na), ctypes.byref(rank))
    del keep
    return Reduction(tout, nnz.value, res.value, bnd.value, nb.value, na.value, rank.value)


def caratheodory_reduce_rows(z, w, q=1.0, options=None, **opts):
    """Reduces every row of w (u x h) against the rows of z (h x r), with one
    factorization of z.  Returns a RowsReduction."""
    za, zrs, zcs = _arrays.matrix_in(z, "z", vector_as_column=False)
    wa, wrs, wcs = _arrays.matrix_in(w, "w", vector_as_column=False)
    h, keep = _options(options, opts)
    u, hh = wa.shape
    wout = np.empty((u, hh))
    nnz = np.zeros(u, dtype=np.uintp)
    used = np.zeros(hh, dtype=np.uint8)
    res, bnd, nb, na = (np.zeros(u) for _ in range(4))
    rank = ctypes.c_size_t()
    addr = _arrays.address
    lib.nslm_caratheodory_reduce_rows(za.shape[0], za.shape[1], addr(za), zrs, zcs, u, addr(wa),
                                      wrs, wcs, float(q), h, addr(wout), hh, 1, addr(nnz),
                                      addr(used), addr(res), addr(bnd), addr(nb), addr(na),
                                      ctypes.byref(rank))
    del keep
    return RowsReduction(wout, nnz.astype(np.int64), used.astype(bool), res, bnd, nb, na,
                         rank.value)
