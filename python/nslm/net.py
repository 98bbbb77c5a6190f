"""Networks: widths and per-layer activations (nslm_net)."""

import ctypes
import enum

import numpy as np

from . import _lib
from ._handle import Handle, create
from ._lib import lib


class Activation(enum.IntEnum):
    """Activation kinds of hidden layers (NSLM_ACT_*)."""

    IDENTITY = 0
    RELU = 1
    LEAKY_RELU = 2  #: max(x, c x)
    POLY = 3        #: c x^k, k a positive integer
    SIGMOID = 4
    TANH = 5
    CALLBACK = 6


def activation_kind(kind):
    """Activation from an Activation, an int or a name ('relu',
    'leaky_relu' or 'leaky', 'poly', 'sigmoid', 'tanh', 'identity')."""
    if isinstance(kind, str):
        key = kind.strip().upper().replace("-", "_")
        key = {"LEAKY": "LEAKY_RELU", "LINEAR": "IDENTITY", "POLYNOMIAL": "POLY"}.get(key, key)
        try:
            return Activation[key]
        except KeyError:
            raise ValueError("unknown activation %r (one of %s)" % (
                kind, ", ".join(a.name.lower() for a in Activation if a != Activation.CALLBACK)))
    return Activation(kind)


def _act_callback(f):
    """Wraps f(x) (x a float64 array to transform in place, or whose result
    replaces it) as an nslm_act_fn."""
    def trampoline(x, length, user_data):
        try:
            arr = np.ctypeslib.as_array(x, shape=(length,)) if length else np.empty(0)
            res = f(arr)
            if res is not None and res is not arr:
                arr[...] = res
            return 0
        except BaseException as e:  # noqa: B902 - reported through the status
            _lib.stash_exception(e)
            return 1
    return _lib.ACT_FN(trampoline)


class Net(Handle):
    """A bias-free feedforward network g(x) = W^l f^l(W^(l-1) ... f^1(W^0 x)).

    Net(widths, activations=None): widths = [d, p_1, ..., p_l, m] (at least
    three entries); every hidden layer starts as ReLU.  activations, if
    given, is one entry for all hidden layers or a list of l entries, each
    a name ('relu', 'tanh', ...), a tuple (name, c) or (name, c, k), or a
    callable (see set_activation_callback).
    """

    _destroy = "nslm_net_destroy"

    def __init__(self, widths, activations=None):
        super().__init__()
        widths = [int(w) for w in widths]
        if len(widths) < 3:
            raise ValueError("widths needs d, at least one hidden width and m (got %r)" % (widths,))
        if min(widths) < 0:
            raise ValueError("widths must be nonnegative (got %r)" % (widths,))
        arr = (ctypes.c_size_t * len(widths))(*widths)
        self._h = create(lib.nslm_net_create, len(widths) - 2, ctypes.addressof(arr))
        self._callbacks = {}
        if activations is not None:
            self.set_activations(activations)

    @classmethod
    def for_params(cls, theta, activations=None):
        """A net with the widths of a parameter set (all ReLU unless
        activations says otherwise)."""
        net = cls._adopt(create(lib.nslm_net_create_for, theta._ptr), _callbacks={})
        if activations is not None:
            net.set_activations(activations)
        return net

    @property
    def depth(self):
        """l, the number of hidden layers."""
        return lib.nslm_net_depth(self._ptr)

    @property
    def widths(self):
        """(d, p_1, ..., p_l, m)."""
        h = self._ptr
        return tuple(lib.nslm_net_width(h, j) for j in range(lib.nslm_net_depth(h) + 2))

    @property
    def num_threads(self):
        """BLIS threads used on behalf of this net.  Setting 0 restores the
        default (BLIS_NUM_THREADS, else OMP_NUM_THREADS, else all cores);
        reading gives the effective count."""
        return lib.nslm_net_num_threads(self._ptr)

    @num_threads.setter
    def num_threads(self, n):
        lib.nslm_net_set_num_threads(self._ptr, int(n))

    def paper_width_bound(self, n):
        """The paper's width bound 2 m (n+1)^l for n samples."""
        return lib.nslm_net_paper_width_bound(self._ptr, int(n))

    def set_activation(self, j, kind, c=0.0, k=1.0):
        """Hidden layer j (1..l) uses activation kind with parameters c, k
        (leaky ReLU slope c; polynomial c x^k)."""
        if callable(kind):
            return self.set_activation_callback(j, kind)
        lib.nslm_net_set_activation(self._ptr, int(j), activation_kind(kind), float(c), float(k))
        self._callbacks.pop(j, None)

    def set_activation_callback(self, j, f, df=None):
        """Hidden layer j uses f: f(x) gets a float64 array of
        pre-activations and transforms it in place (or returns the result).
        df(x), optional, does the same with the derivative (needed by
        gradient()).  The net keeps both alive."""
        cf = _act_callback(f)
        cdf = _act_callback(df) if df is not None else _lib.ACT_FN()  # NULL
        lib.nslm_net_set_activation_callback(self._ptr, int(j), cf, cdf, None)
        self._callbacks[j] = (cf, cdf)

    def set_activations(self, activations):
        """Sets every hidden layer from one spec or a list of l specs."""
        l = self.depth
        if isinstance(activations, (str, tuple)) or callable(activations):
            activations = [activations] * l
        activations = list(activations)
        if len(activations) != l:
            raise ValueError("%d activations for %d hidden layers" % (len(activations), l))
        for j, a in enumerate(activations, 1):
            if isinstance(a, tuple):
                self.set_activation(j, *a)
            else:
                self.set_activation(j, a)

    def activation(self, j):
        """(Activation, c, k) of hidden layer j."""
        kind, c, k = ctypes.c_int(), ctypes.c_double(), ctypes.c_double()
        lib.nslm_net_get_activation(self._ptr, int(j), ctypes.byref(kind), ctypes.byref(c),
                                    ctypes.byref(k))
        return Activation(kind.value), c.value, k.value

    def __repr__(self):
        if self.closed:
            return "<nslm.Net closed>"
        acts = ",".join(self.activation(j)[0].name.lower() for j in range(1, self.depth + 1))
        return "<nslm.Net widths=%s activations=%s>" % (list(self.widths), acts)
