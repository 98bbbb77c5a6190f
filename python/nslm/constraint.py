"""The constraint r(Theta) (nslm_constraint) and row-wise matrix norms."""

import ctypes

import numpy as np

from . import _arrays
from ._handle import Handle, create
from ._lib import lib


class Constraint(Handle):
    """r(Theta) = max(a_r max_{j>=1} |||Theta^j|||_1, b_r |||Theta^0|||_q), with
    row-wise norms |||M|||_q = max over rows of (sum_k |M_rk|^q)^(1/q),
    q in (0, inf] (q = math.inf: max abs entry).  The feasible set is
    r <= 1; Constraint() (a_r = b_r = 0) is unconstrained.
    """

    _destroy = "nslm_constraint_destroy"

    def __init__(self, a_r=0.0, b_r=0.0, q=1.0):
        super().__init__()
        self._h = create(lib.nslm_constraint_create, float(a_r), float(b_r), float(q))

    @property
    def params(self):
        """(a_r, b_r, q)."""
        a, b, q = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        lib.nslm_constraint_get(self._ptr, ctypes.byref(a), ctypes.byref(b), ctypes.byref(q))
        return a.value, b.value, q.value

    def __call__(self, theta):
        """r(theta)."""
        r = ctypes.c_double()
        lib.nslm_constraint_eval(self._ptr, theta._ptr, ctypes.byref(r))
        return r.value

    value = __call__

    def row_norms(self, theta, j):
        """Unscaled row norms of layer j (the q-norm for j = 0, else the
        1-norm), one per row."""
        rows, _ = theta.shape(j)
        out = np.empty(rows)
        lib.nslm_constraint_row_norms(self._ptr, theta._ptr, int(j), _arrays.address(out), rows)
        return out

    def feasible(self, theta):
        """True if r(theta) <= 1."""
        f = ctypes.c_int()
        lib.nslm_constraint_feasible(self._ptr, theta._ptr, ctypes.byref(f))
        return bool(f.value)

    def __repr__(self):
        if self.closed:
            return "<nslm.Constraint closed>"
        return "<nslm.Constraint a_r=%g b_r=%g q=%g>" % self.params


def matrix_row_norm(a, q):
    """max over rows of (sum_k |a_rk|^q)^(1/q), overflow-safe; q in (0, inf]."""
    arr, rs, cs = _arrays.matrix_in(a, "a", vector_as_column=False)
    norm = ctypes.c_double()
    lib.nslm_matrix_row_norm(arr.shape[0], arr.shape[1], _arrays.address(arr), rs, cs,
                             float(q), ctypes.byref(norm))
    return norm.value

