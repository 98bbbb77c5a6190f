"""numpy arrays to and from the (rows, cols, ptr, rs, cs) convention of nslm.h.

Inputs are passed without a copy whenever numpy's strides allow it
(float64, strides positive multiples of 8 bytes): C-order, Fortran-order
and sliced arrays alike.  Anything else (other dtypes, negative strides,
lists) is converted once.  Outputs are numpy arrays the library writes
into directly.
"""

import numpy as np

_ITEM = 8  # sizeof(double)


def _strides_ok(arr):
    for extent, stride in zip(arr.shape, arr.strides):
        if extent > 1 and (stride <= 0 or stride % _ITEM):
            return False
    return True


def matrix_in(a, name, vector_as_column=True):
    """A float64 2-D view of a (1-D as a column when vector_as_column),
    plus its element strides: (arr, rs, cs).  No copy when possible."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1 and vector_as_column:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError("%s must be a 2-D array (got shape %s)" % (name, arr.shape))
    if not _strides_ok(arr):
        arr = np.ascontiguousarray(arr)
    return arr, _stride(arr, 0), _stride(arr, 1)


def vector_in(a, name, length=None):
    """A contiguous float64 1-D array (copied only if needed)."""
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if length is not None and arr.shape[0] != length:
        raise ValueError("%s must have length %d (got %d)" % (name, length, arr.shape[0]))
    return arr


def matrix_out(rows, cols, out, name):
    """The output array: a new C-order (rows, cols) array, or the caller's
    out (float64, writable, that shape, any positive strides)."""
    if out is None:
        arr = np.empty((rows, cols), dtype=np.float64)
    else:
        arr = out
        if not isinstance(arr, np.ndarray) or arr.dtype != np.float64:
            raise TypeError("%s must be a float64 numpy array" % name)
        if arr.shape != (rows, cols):
            raise ValueError("%s must have shape (%d, %d) (got %s)" % (name, rows, cols, arr.shape))
        if not arr.flags.writeable:
            raise ValueError("%s is read-only" % name)
        if not _strides_ok(arr):
            raise ValueError("%s has strides %s that nslm cannot write through" % (name, arr.strides))
    return arr, _stride(arr, 0), _stride(arr, 1)


def _stride(arr, axis):
    if arr.shape[axis] <= 1:
        # Any stride is valid for an extent of 1; give the natural one.
        return arr.shape[1 - axis] if axis == 0 else 1
    return arr.strides[axis] // _ITEM


def address(arr):
    """The data address of an array, for a c_void_p argument."""
    return arr.ctypes.data
