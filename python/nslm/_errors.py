"""Status codes of libnslm and the exceptions that carry them."""

import enum


class Status(enum.IntEnum):
    """The status codes of nslm.h (NSLM_OK and the negative NSLM_ERR_*)."""

    OK = 0
    INVALID = -1
    NOMEM = -2
    DIMENSION = -3
    NONFINITE = -4
    INFEASIBLE = -5
    FORMAT = -6
    IO = -7
    NUMERIC = -8
    TOO_NARROW = -9
    CANCELLED = -10
    DOMAIN = -11
    UNSUPPORTED = -12
    CALLBACK = -13
    RANGE = -14


class NslmError(Exception):
    """A libnslm call failed.

    Attributes:
        status: the status code (a :class:`Status` when known, else an int).
        message: the library's static description of the status.
        detail: the detail message of the failure (names the offending
            argument), as returned by nslm_last_error() right after the call.
        function: the C function that failed.
    """

    def __init__(self, status, message="", detail="", function=""):
        try:
            status = Status(status)
        except ValueError:
            pass
        self.status = status
        self.message = message
        self.detail = detail
        self.function = function
        name = status.name if isinstance(status, Status) else str(status)
        text = "%s (NSLM_ERR_%s)" % (message or "libnslm error", name)
        if detail:
            text += ": " + detail
        super().__init__(text)


class InvalidArgumentError(NslmError, ValueError):
    """NSLM_ERR_INVALID, NSLM_ERR_DOMAIN: a bad argument or option value."""


class DimensionError(NslmError, ValueError):
    """NSLM_ERR_DIMENSION: sizes or shapes do not match."""


class NonFiniteError(NslmError, ValueError):
    """NSLM_ERR_NONFINITE: NaN or Inf in an input."""


class InfeasibleError(NslmError, ValueError):
    """NSLM_ERR_INFEASIBLE: a parameter set violates the constraint."""


class FileFormatError(NslmError, ValueError):
    """NSLM_ERR_FORMAT: a corrupt, truncated or unsupported file."""


class NslmIOError(NslmError, OSError):
    """NSLM_ERR_IO: the operating system refused a read or write."""


class NslmMemoryError(NslmError, MemoryError):
    """NSLM_ERR_NOMEM: an allocation failed."""


class NumericError(NslmError, ArithmeticError):
    """NSLM_ERR_NUMERIC: a numerical procedure failed."""


class TooNarrowError(NslmError):
    """NSLM_ERR_TOO_NARROW: a hidden layer is too narrow for the
    construction; the detail names each short layer with the width it needs
    and the width it has."""


class CancelledError(NslmError):
    """NSLM_ERR_CANCELLED: a progress callback asked the call to stop."""


class UnsupportedError(NslmError, NotImplementedError):
    """NSLM_ERR_UNSUPPORTED: a valid request this object cannot serve (also
    raised by this package when the loaded library lacks a function)."""


class CallbackError(NslmError):
    """NSLM_ERR_CALLBACK: a user callback failed; the Python exception it
    raised, if any, is chained as __cause__."""


class RangeError(NslmError, IndexError):
    """NSLM_ERR_RANGE: an index is out of range."""


_CLASSES = {
    Status.INVALID: InvalidArgumentError,
    Status.DOMAIN: InvalidArgumentError,
    Status.DIMENSION: DimensionError,
    Status.NONFINITE: NonFiniteError,
    Status.INFEASIBLE: InfeasibleError,
    Status.FORMAT: FileFormatError,
    Status.IO: NslmIOError,
    Status.NOMEM: NslmMemoryError,
    Status.NUMERIC: NumericError,
    Status.TOO_NARROW: TooNarrowError,
    Status.CANCELLED: CancelledError,
    Status.UNSUPPORTED: UnsupportedError,
    Status.CALLBACK: CallbackError,
    Status.RANGE: RangeError,
}


def error_class(status):
    """The exception class raised for a status code."""
    return _CLASSES.get(status, NslmError)
