"""The base of every class that owns a libnslm handle."""

import ctypes

from ._lib import lib


class Handle:
    """Owns one opaque libnslm handle.

    The handle is released by close(), by leaving a ``with`` block, or
    when the object is garbage-collected; close() may be called twice.
    Using a closed object raises ValueError.
    """

    _destroy = None  # name of the nslm_*_destroy function

    def __init__(self):
        self._h = None

    @classmethod
    def _adopt(cls, handle, **attrs):
        """An object owning handle (from a nslm_*_create out-parameter)."""
        obj = cls.__new__(cls)
        obj._h = handle
        for k, v in attrs.items():
            setattr(obj, k, v)
        return obj

    @property
    def _ptr(self):
        if self._h is None:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._h

    @property
    def closed(self):
        """True once close() has released the handle."""
        return self._h is None

    def close(self):
        """Release the handle now (idempotent)."""
        h, self._h = getattr(self, "_h", None), None
        if h is not None:
            getattr(lib, self._destroy)(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def create(fn, *args):
    """Calls an nslm_*_create-style fn(&out, *args) and returns the handle."""
    out = ctypes.c_void_p()
    fn(ctypes.byref(out), *args)
    return out.value
