"""Parameter sets Theta = (Theta^0, ..., Theta^l) (nslm_params)."""

import ctypes
import os

import numpy as np

from . import _arrays
from ._errors import DimensionError, Status
from ._handle import Handle, create
from ._lib import lib

UNIFORM, NORMAL = 0, 1


def _path(p):
    return os.fsencode(p)


class Params(Handle):
    """The layer matrices of a network: Theta^j has shape (p_{j+1}, p_j),
    the layout of PyTorch's nn.Linear(p_j, p_{j+1}, bias=False).weight.

    Params(net) is all zeros.  Other constructors: Params.from_layers(),
    Params.random(), Params.load().  theta[j] returns a copy of layer j as a
    numpy array; theta[j] = array sets it; len(theta) = l + 1.  Two sets
    compare equal when their widths and entries are equal.
    """

    _destroy = "nslm_params_destroy"

    def __init__(self, net):
        super().__init__()
        self._h = create(lib.nslm_params_create, net._ptr)

    @classmethod
    def from_layers(cls, layers):
        """A parameter set from a list of 2-D arrays (e.g. the weight
        arrays of bias-free nn.Linear layers, converted with .numpy()), whose
        shapes must chain: layers[j].shape[0] == layers[j+1].shape[1]."""
        from .net import Net
        mats = [_arrays.matrix_in(a, "layers[%d]" % j, vector_as_column=False)
                for j, a in enumerate(layers)]
        if len(mats) < 2:
            raise DimensionError(Status.DIMENSION, "dimension mismatch",
                                 "a parameter set needs at least 2 layers (got %d)" % len(mats),
                                 "Params.from_layers")
        widths = [mats[0][0].shape[1]]
        for j, (a, _, _) in enumerate(mats):
            if a.shape[1] != widths[-1]:
                raise DimensionError(Status.DIMENSION, "dimension mismatch",
                                     "layers[%d] has %d columns but layers[%d] has %d rows"
                                     % (j, a.shape[1], j - 1, widths[-1]), "Params.from_layers")
            widths.append(a.shape[0])
        with Net(widths) as net:
            theta = cls(net)
        for j, (a, rs, cs) in enumerate(mats):
            theta._set(j, a, rs, cs)
        return theta

    @classmethod
    def random(cls, net, seed=0, dist="uniform", scale=1.0):
        """Reproducible random initialisation: uniform on [-s, s] or normal
        with standard deviation s, s = scale / sqrt(fan_in)."""
        theta = cls(net)
        theta.init_random(seed, dist, scale)
        return theta

    @classmethod
    def load(cls, path):
        """A parameter set from an .npz file with arrays layer_0..layer_l."""
        return cls._adopt(create(lib.nslm_params_load, _path(path)))

    def save(self, path):
        """Writes an .npz file with arrays layer_0..layer_l (float64),
        atomically (an existing file survives a failed save)."""
        lib.nslm_params_save(self._ptr, _path(path))

    def init_random(self, seed=0, dist="uniform", scale=1.0):
        """Refills every layer at random (see Params.random)."""
        kinds = {"uniform": UNIFORM, "normal": NORMAL}
        if dist not in kinds and dist not in (UNIFORM, NORMAL):
            raise ValueError("dist must be 'uniform' or 'normal' (got %r)" % (dist,))
        lib.nslm_params_init_random(self._ptr, int(seed), kinds.get(dist, dist), float(scale))

    @property
    def depth(self):
        """l: the set has l + 1 layers."""
        return lib.nslm_params_depth(self._ptr)

    def shape(self, j):
        """(rows, cols) of layer j."""
        r, c = ctypes.c_size_t(), ctypes.c_size_t()
        lib.nslm_params_layer_shape(self._ptr, int(j), ctypes.byref(r), ctypes.byref(c))
        return r.value, c.value

    @property
    def shapes(self):
        """The shapes of all layers."""
        return [self.shape(j) for j in range(len(self))]

    @property
    def widths(self):
        """(d, p_1, ..., p_l, m)."""
        s = self.shapes
        return tuple([s[0][1]] + [r for r, _ in s])

    def layer(self, j, out=None):
        """Layer j as a new (or the given, float64) numpy array."""
        r, c = self.shape(j)
        arr, rs, cs = _arrays.matrix_out(r, c, out, "out")
        lib.nslm_params_get_layer(self._ptr, int(j), r, c, _arrays.address(arr), rs, cs)
        return arr

    def set_layer(self, j, a):
        """Layer j := a (any float array of the layer's shape; copied)."""
        arr, rs, cs = _arrays.matrix_in(a, "layer %d" % j, vector_as_column=False)
        self._set(j, arr, rs, cs)

    def _set(self, j, arr, rs, cs):
        lib.nslm_params_set_layer(self._ptr, int(j), arr.shape[0], arr.shape[1],
                                  _arrays.address(arr), rs, cs)

    @property
    def layers(self):
        """Copies of all layers, as a list of numpy arrays."""
        return [self.layer(j) for j in range(len(self))]

    def __len__(self):
        return self.depth + 1

    def __getitem__(self, j):
        if not isinstance(j, int):
            raise TypeError("layer index must be an int")
        if j < 0:
            j += len(self)
        return self.layer(j)

    def __setitem__(self, j, a):
        if j < 0:
            j += len(self)
        self.set_layer(j, a)

    def __iter__(self):
        return iter(self.layers)

    def copy(self):
        """An independent copy."""
        return Params._adopt(create(lib.nslm_params_clone, self._ptr))

    clone = copy

    def assign(self, other):
        """self := other (same widths)."""
        lib.nslm_params_assign(self._ptr, other._ptr)

    @staticmethod
    def interpolate(a, b, t, out=None):
        """(1 - t) a + t b (exact at t = 0 and 1), in out or a new set."""
        if out is None:
            out = a.copy()
        lib.nslm_params_interpolate(out._ptr, a._ptr, b._ptr, float(t))
        return out

    def row_support(self, j):
        """Boolean array: which rows of layer j have a nonzero entry."""
        r, _ = self.shape(j)
        mask = np.zeros(r, dtype=np.uint8)
        lib.nslm_params_row_support(self._ptr, int(j), _arrays.address(mask), r)
        return mask.astype(bool)

    def col_support(self, j):
        """Boolean array: which columns of layer j have a nonzero entry."""
        _, c = self.shape(j)
        mask = np.zeros(c, dtype=np.uint8)
        lib.nslm_params_col_support(self._ptr, int(j), _arrays.address(mask), c)
        return mask.astype(bool)

    def __eq__(self, other):
        if not isinstance(other, Params):
            return NotImplemented
        return lib.nslm_params_equal(self._ptr, other._ptr) == 1

    __hash__ = None

    def __repr__(self):
        if self.closed:
            return "<nslm.Params closed>"
        return "<nslm.Params widths=%s>" % (list(self.widths),)
