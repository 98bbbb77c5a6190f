"""Paths: knots joined by straight segments, each with a kind (nslm_path)."""

import collections
import ctypes
import enum
import os

import numpy as np

from . import _arrays, _lib
from ._handle import Handle, create
from ._lib import lib
from .params import Params

Profile = collections.namedtuple("Profile", "t risk r losses")
Profile.__doc__ = """Values along a path or a line: t (array), risk (array), r (array, or
None when unconstrained), losses (npoints x n array, or None)."""


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

    def set_kind(self, s, kind):
        """Relabels segment s (to state a claim, or to test a certificate)."""
        lib.nslm_path_set_segment_kind(self._ptr, int(s), segment_kind(kind))

    @property
    def nonincreasing(self):
        """The claim that the risk never increases along the path (set by
        descent cuts, kept by copy and extend, dropped by reversed)."""
        c = ctypes.c_int()
        lib.nslm_path_get_nonincreasing(self._ptr, ctypes.byref(c))
        return bool(c.value)

    @nonincreasing.setter
    def nonincreasing(self, claim):
        lib.nslm_path_set_nonincreasing(self._ptr, 1 if claim else 0)

    @property
    def stored_values(self):
        """Doubles stored by the path (only the changed layers of its knots)."""
        return lib.nslm_path_stored_values(self._ptr)

    def grid_size(self, points):
        """Points of the uniform grid with `points` per segment, shared knots
        counted once."""
        return lib.nslm_path_grid_size(self._ptr, int(points))

    def eval(self, data, loss, t=None, points=17, constraint=None, losses=False, plain=False,
             net=None, progress=None):
        """Risk (and r, per-sample losses) along the path, at the given t
        in [0, 1] or on the uniform grid of `points` per segment (knots
        exact).  plain=True evaluates every point from scratch instead of
        exploiting the segments' structure (same values to rounding).
        progress(fraction) may return True to cancel.  Returns a Profile."""
        net = net or self.net
        mode = 1 if plain else 0
        if t is not None:
            tv = _arrays.vector_in(t, "t")
            npts = len(tv)
        else:
            npts = self.grid_size(points)
            tv = np.empty(npts)
        risk = np.empty(npts)
        r = np.empty(npts) if constraint is not None else None
        lo = np.empty((npts, data.n)) if losses else None
        cb = _lib.progress_arg(progress)
        args = (_arrays.address(risk), _arrays.address(r) if r is not None else None,
                _arrays.address(lo) if lo is not None else None, data.n if losses else 0,
                1 if losses else 0, mode, cb, None)
        con = constraint._ptr if constraint is not None else None
        if t is not None:
            lib.nslm_path_eval(self._ptr, net._ptr, data._ptr, loss._ptr, con, npts,
                               _arrays.address(tv), *args)
        else:
            lib.nslm_path_eval_grid(self._ptr, net._ptr, data._ptr, loss._ptr, con, int(points),
                                    npts, _arrays.address(tv), *args)
        return Profile(tv, risk, r, lo)

    def certify(self, data, loss, constraint=None, kind="algebraic", points=0, net=None,
                progress=None):
        """A Certificate of the path's claims: kind 'algebraic' (identities at
        the knots: a proof) or 'sampled' (the risk measured at `points` per
        segment, 0 = the default 17)."""
        from .certificate import Certificate, certificate_kind
        net = net or self.net
        cb = _lib.progress_arg(progress)
        h = create(lib.nslm_path_certify, self._ptr, net._ptr, data._ptr, loss._ptr,
                   constraint._ptr if constraint is not None else None, certificate_kind(kind),
                   int(points), cb, None)
        return Certificate._adopt(h)

    def descent_cut(self, data, loss, net=None, progress=None):
        """Cuts the path at the minimizer of the risk on its first CONVEX
        segment (earlier segments must be CONSTANT): (path, t_cut, risk_end);
        the new path claims a nonincreasing risk."""
        net = net or self.net
        out = ctypes.c_void_p()
        t_cut, risk_end = ctypes.c_double(), ctypes.c_double()
        cb = _lib.progress_arg(progress)
        lib.nslm_path_descent(ctypes.byref(out), self._ptr, net._ptr, data._ptr, loss._ptr,
                              ctypes.byref(t_cut), ctypes.byref(risk_end), cb, None)
        return Path._wrap(out.value, net), t_cut.value, risk_end.value

    def save(self, filename):
        """Writes the path as a versioned, checksummed .npz (atomically)."""
        lib.nslm_path_save(self._ptr, os.fsencode(filename))

    @classmethod
    def load(cls, filename, net):
        """A path from a file written by save(); net gives the activations
        (files store widths, not activations) and must have the path's
        widths."""
        path = cls._wrap(create(lib.nslm_path_load, os.fsencode(filename)), net)
        path.knot(0)  # checks the widths against net's
        return path

    def __repr__(self):
        if self.closed:
            return "<nslm.Path closed>"
        kinds = self.kinds
        counts = ", ".join("%d %s" % (kinds.count(k), k.name.lower()) for k in SegmentKind
                           if k in kinds)
        return "<nslm.Path %d segments%s>" % (len(kinds), ": " + counts if counts else "")
