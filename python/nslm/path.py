"""Paths: knots joined by straight segments, each with a kind (nslm_path)."""

import ctypes
import enum

import numpy as np

from . import _arrays
from ._handle import Handle, create
from ._lib import lib
from .params import Params


class SegmentKind(enum.IntEnum):
    """What a segment claims about the risk along it (NSLM_SEG_*)."""

    GENERAL = 0   #: no claim
    CONSTANT = 1  #: the risk is provably constant
    CONVEX = 2    #: the outputs are affine in t, so the risk is convex


def segment_kind(kind):
    """SegmentKind from a SegmentKind, an int or a name."""
    if isinstance(kind, str):
        return SegmentKind[kind.strip().upper()]
    return SegmentKind(kind)


class Path(Handle):
    """A piecewise-linear path in parameter space.

    Path(net, start) has one knot and no segment; append() adds segments.
    Segment s (of S) covers t in [s/S, (s+1)/S]; point(t) materializes the
    parameters at t.  The path copies what it is given and keeps a
    reference to its net (to build parameter sets of the right widths).
    len(path) is the number of segments.
    """

    _destroy = "nslm_path_destroy"

    def __init__(self, net, start):
        super().__init__()
        self._h = create(lib.nslm_path_create, net._ptr, start._ptr)
        self.net = net

    @classmethod
    def _wrap(cls, handle, net):
        return cls._adopt(handle, net=net)

    def append(self, knot, kind=SegmentKind.GENERAL):
        """Appends the segment from the last knot to knot, with a kind."""
        lib.nslm_path_append(self._ptr, knot._ptr, segment_kind(kind))
        return self

    def extend(self, other):
        """Appends every segment of other (whose first knot must equal this
        path's last)."""
        lib.nslm_path_extend(self._ptr, other._ptr)
        return self

    def copy(self):
        """An independent copy."""
        return Path._wrap(create(lib.nslm_path_clone, self._ptr), self.net)

    def reversed(self):
        """The same knots in reverse order."""
        return Path._wrap(create(lib.nslm_path_reverse, self._ptr), self.net)

    @property
    def num_knots(self):
        """Number of knots (segments + 1)."""
        return lib.nslm_path_num_knots(self._ptr)

    @property
    def num_segments(self):
        """Number of segments."""
        return lib.nslm_path_num_segments(self._ptr)

    def __len__(self):
        return self.num_segments

    def knot(self, i):
        """Knot i as a new Params."""
        out = Params(self.net)
        lib.nslm_path_get_knot(self._ptr, int(i), out._ptr)
        return out

    @property
    def knots(self):
        """All knots, as a list of Params."""
        return [self.knot(i) for i in range(self.num_knots)]

    def kind(self, s):
        """The SegmentKind of segment s."""
        k = ctypes.c_int()
        lib.nslm_path_segment_kind(self._ptr, int(s), ctypes.byref(k))
        return SegmentKind(k.value)

    @property
    def kinds(self):
        """The kinds of all segments."""
        return [self.kind(s) for s in range(self.num_segments)]

    def layers(self, s):
        """Boolean array over layers 0..l: which change on segment s."""
        depth = self.net.depth
        mask = np.zeros(depth + 1, dtype=np.uint8)
        lib.nslm_path_segment_layers(self._ptr, int(s), _arrays.address(mask), depth + 1)
        return mask.astype(bool)

    def point(self, t, out=None):
        """The parameters at t in [0, 1] (in out, a Params, if given)."""
        if out is None:
            out = Params(self.net)
        lib.nslm_path_point(self._ptr, float(t), out._ptr)
        return out

    def __repr__(self):
        if self.closed:
            return "<nslm.Path closed>"
        kinds = self.kinds
        counts = ", ".join("%d %s" % (kinds.count(k), k.name.lower()) for k in SegmentKind
                           if k in kinds)
        return "<nslm.Path %d segments%s>" % (len(kinds), ": " + counts if counts else "")
