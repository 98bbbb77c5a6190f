"""Losses l(a, y), convex in the output a (nslm_loss)."""

import ctypes
import enum

import numpy as np

from . import _arrays, _lib
from ._handle import Handle, create
from ._lib import lib


class LossKind(enum.IntEnum):
    """Loss kinds (NSLM_LOSS_*); every one is convex in the output a."""

    SQUARED = 0         #: sum_k (a_k - y_k)^2
    ABSOLUTE = 1        #: sum_k |a_k - y_k|
    HUBER = 2           #: sum_k huber_delta(a_k - y_k), param = delta > 0
    LOGISTIC = 3        #: sum_k log(1 + exp(-y_k a_k)), y_k in {-1, 1}
    LOGISTIC_PAPER = 4  #: sum_k -(1+y_k) log(1+a_k) - (1-y_k) log(1-a_k)
    HINGE = 5           #: sum_k max(0, 1 - y_k a_k)
    SOFTMAX_CE = 6      #: -sum_k y_k log softmax(a)_k
    CALLBACK = 7


def loss_kind(kind):
    """LossKind from a LossKind, an int or a name ('squared', 'huber',
    'softmax_ce' or 'cross_entropy', ...)."""
    if isinstance(kind, str):
        key = kind.strip().upper().replace("-", "_")
        key = {"MSE": "SQUARED", "L2": "SQUARED", "L1": "ABSOLUTE", "CROSS_ENTROPY": "SOFTMAX_CE",
               "CE": "SOFTMAX_CE"}.get(key, key)
        try:
            return LossKind[key]
        except KeyError:
            raise ValueError("unknown loss %r (one of %s)" % (
                kind, ", ".join(k.name.lower() for k in LossKind if k != LossKind.CALLBACK)))
    return LossKind(kind)


class Loss(Handle):
    """A per-sample loss l(a, y), convex in the output a.

    Loss('squared'), Loss('huber', delta), ... or Loss.callback(f).
    """

    _destroy = "nslm_loss_destroy"

    def __init__(self, kind="squared", param=0.0):
        super().__init__()
        self._fn = None
        self._h = create(lib.nslm_loss_create, loss_kind(kind), float(param))

    @classmethod
    def callback(cls, f):
        """A loss computed by Python: f(a, y) gets two float64 arrays of
        length m and returns the value, or (value, grad) -- a (sub)gradient
        in a is needed by gradient() and by non-squared descent cuts.  f must
        be convex in a for the library's convexity claims to hold."""
        def trampoline(a, y, m, value, grad, user_data):
            try:
                av = np.ctypeslib.as_array(a, shape=(m,))
                yv = np.ctypeslib.as_array(y, shape=(m,))
                res = f(av, yv)
                if isinstance(res, tuple):
                    v, g = res
                else:
                    v, g = res, None
                value[0] = float(v)
                if grad:
                    if g is None:
                        raise ValueError("the loss callback must return (value, grad) "
                                         "when a gradient is requested")
                    np.ctypeslib.as_array(grad, shape=(m,))[...] = g
                return 0
            except BaseException as e:  # noqa: B902 - reported through the status
                _lib.stash_exception(e)
                return 1
        fn = _lib.LOSS_FN(trampoline)
        return cls._adopt(create(lib.nslm_loss_create_callback, fn, None), _fn=fn)

    @property
    def kind(self):
        """The LossKind."""
        return LossKind(lib.nslm_loss_kind(self._ptr))

    def __call__(self, a, y, grad=False):
        """l(a, y) for one sample; with grad=True, (value, gradient in a)."""
        av = _arrays.vector_in(a, "a")
        yv = _arrays.vector_in(y, "y", len(av))
        value = ctypes.c_double()
        g = np.empty(len(av)) if grad else None
        lib.nslm_loss_eval(self._ptr, len(av), _arrays.address(av), _arrays.address(yv),
                           ctypes.byref(value), _arrays.address(g) if grad else None)
        return (value.value, g) if grad else value.value

    eval = __call__

    def __repr__(self):
        return "<nslm.Loss closed>" if self.closed else "<nslm.Loss %s>" % self.kind.name.lower()
