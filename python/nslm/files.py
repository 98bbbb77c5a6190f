"""Reading and writing single matrices as .npy files (nslm_npy_*)."""

import ctypes
import os

import numpy as np

from . import _arrays
from ._lib import lib


def read_npy(path):
    """A 1-D (as a column) or 2-D float64/float32 little-endian .npy
    array, as a C-order float64 (rows, cols) array."""
    p = os.fsencode(path)
    rows, cols = ctypes.c_size_t(), ctypes.c_size_t()
    lib.nslm_npy_read(p, None, 0, ctypes.byref(rows), ctypes.byref(cols))
    out = np.empty((rows.value, cols.value))
    lib.nslm_npy_read(p, _arrays.address(out), out.size, ctypes.byref(rows), ctypes.byref(cols))
    return out


def write_npy(path, a):
    """Writes a 2-D (or 1-D, as a column) array as a float64 .npy file,
    atomically."""
    arr, rs, cs = _arrays.matrix_in(a, "a")
    lib.nslm_npy_write(os.fsencode(path), arr.shape[0], arr.shape[1], _arrays.address(arr), rs, cs)
