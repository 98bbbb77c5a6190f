"""nslm - certified barrier-free paths in the loss landscapes of wide networks.

Python bindings (ctypes + numpy) of libnslm.  The library implements the
constructive proof of "No Spurious Local Minima: on the Optimization
Landscapes of Wide and Deep Neural Networks": for a wide bias-free network,
data, a convex loss and a row-wise constraint, it connects any parameter
set Theta to any target Gamma by a path along which the risk is constant,
then convex, then constant, cuts it so that the risk never increases, and
certifies every segment.

Quick tour::

    import numpy as np, nslm
    X, Y = np.random.randn(16, 4), np.random.randn(16, 2)
    data = nslm.Data(X, Y)
    net = nslm.Net([4, 200, 200, 2], activations="relu")
    theta = nslm.Params.random(net, seed=1)
    loss = nslm.Loss("squared")
    print(nslm.risk(net, theta, data, loss))

Objects owning library handles (Net, Params, Data, Loss, Constraint, ...)
release them on close(), at the end of a ``with`` block, or when
collected.  Arrays go in and out as float64 numpy arrays, without copies
where the strides allow.  Failures raise NslmError subclasses carrying
.status (a Status) and .detail (the library's message).

The library is found through $NSLM_LIBRARY, the build tree, the install
directory, or the system's library path, in that order; its version is
checked on import.
"""

from ._errors import (CallbackError, CancelledError, DimensionError, FileFormatError,
                      InfeasibleError, InvalidArgumentError, NonFiniteError, NslmError,
                      NslmIOError, NslmMemoryError, NumericError, RangeError, Status,
                      TooNarrowError, UnsupportedError)
from ._lib import lib as _lib_handle
from .data import Data
from .evaluate import features, gradient, losses, objective, outputs, risk
from .files import read_npy, write_npy
from .net import Activation, Net
from .constraint import Constraint, matrix_row_norm
from .loss import Loss, LossKind
from .params import Params
from .path import Path, Profile, SegmentKind
from .certificate import Certificate, CertificateKind, default_tolerance
from .landscape import (Plane, barrier, directions, line, plane, plane3, write_plane_csv,
                        write_plane_svg, write_profile_csv, write_profile_svg)
from .caratheodory import (CaratheodoryOptions, Reduction, RowsReduction, caratheodory_reduce,
                           caratheodory_reduce_rows, default_rank_tol)
from . import plot
from .construction import (CompressMode, CompressResult, ConstructOptions, GlobalMinimum,
                           active_units, active_widths, compress, compress_widths, connect,
                           connect_widths, descent, global_minimize, is_block, is_lower_block,
                           is_upper_block, penalized_report, permute_units, relocate)

__version__ = "0.1.0"


def library_version():
    """The version string of the loaded libnslm."""
    return _lib_handle.nslm_version_string().decode()


def library_path():
    """The file the library was loaded from."""
    return _lib_handle.path


def strerror(status):
    """The library's description of a status code."""
    return _lib_handle.nslm_strerror(int(status)).decode()


def last_error():
    """The detail message of the last failure in this thread ('' if none)."""
    return _lib_handle.nslm_last_error().decode("utf-8", "replace")


__all__ = [
    "CaratheodoryOptions", "Certificate", "CertificateKind", "Plane", "Profile", "Reduction",
    "RowsReduction", "barrier", "caratheodory_reduce", "caratheodory_reduce_rows",
    "default_rank_tol", "default_tolerance", "directions", "line", "plane", "plane3", "plot",
    "write_plane_csv", "write_plane_svg", "write_profile_csv", "write_profile_svg",
    "CompressMode", "CompressResult", "ConstructOptions", "GlobalMinimum", "Path", "SegmentKind",
    "active_units", "active_widths", "compress", "compress_widths", "connect", "connect_widths",
    "descent", "global_minimize", "is_block", "is_lower_block", "is_upper_block",
    "penalized_report", "permute_units", "relocate",
    "Activation", "CallbackError", "CancelledError", "Constraint", "Data", "DimensionError",
    "FileFormatError", "InfeasibleError", "InvalidArgumentError", "Loss", "LossKind", "Net",
    "NonFiniteError", "NslmError", "NslmIOError", "NslmMemoryError", "NumericError", "Params",
    "RangeError", "Status", "TooNarrowError", "UnsupportedError", "features", "gradient",
    "last_error", "library_path", "library_version", "losses", "matrix_row_norm", "objective",
    "outputs", "read_npy", "risk", "strerror", "write_npy",
]
