"""Data sets: X (n x d) and Y (n x m), samples as rows (nslm_data)."""

from . import _arrays
from ._errors import DimensionError, Status
from ._handle import Handle, create
from ._lib import lib


class Data(Handle):
    """A training set, copied into the library.

    Data(X, Y): X is n x d, Y is n x m (1-D arrays are taken as one
    column); any float arrays, C- or Fortran-order or sliced.  NaN or Inf
    raises NonFiniteError.
    """

    _destroy = "nslm_data_destroy"

    def __init__(self, x, y):
        super().__init__()
        xa, xrs, xcs = _arrays.matrix_in(x, "X")
        ya, yrs, ycs = _arrays.matrix_in(y, "Y")
        if xa.shape[0] != ya.shape[0]:
            # The C call takes one n for both: check here, or Y would be overrun.
            raise DimensionError(Status.DIMENSION, "dimension mismatch",
                                 "X has %d rows but Y has %d" % (xa.shape[0], ya.shape[0]),
                                 "Data")
        self._h = create(lib.nslm_data_create, xa.shape[0], xa.shape[1], _arrays.address(xa),
                         xrs, xcs, ya.shape[1], _arrays.address(ya), yrs, ycs)

    @property
    def n(self):
        """Number of samples."""
        return lib.nslm_data_n(self._ptr)

    @property
    def d(self):
        """Input dimension."""
        return lib.nslm_data_d(self._ptr)

    @property
    def m(self):
        """Output dimension."""
        return lib.nslm_data_m(self._ptr)

    def __len__(self):
        return self.n

    @property
    def x(self):
        """A copy of X (n x d)."""
        arr, rs, cs = _arrays.matrix_out(self.n, self.d, None, "X")
        lib.nslm_data_get_x(self._ptr, _arrays.address(arr), rs, cs)
        return arr

    @property
    def y(self):
        """A copy of Y (n x m)."""
        arr, rs, cs = _arrays.matrix_out(self.n, self.m, None, "Y")
        lib.nslm_data_get_y(self._ptr, _arrays.address(arr), rs, cs)
        return arr

    def __repr__(self):
        if self.closed:
            return "<nslm.Data closed>"
        return "<nslm.Data n=%d d=%d m=%d>" % (self.n, self.d, self.m)
