"""Certificates of a path's claims (nslm_certificate)."""

import ctypes
import enum

from ._handle import Handle
from ._lib import lib


class CertificateKind(enum.IntEnum):
    """ALGEBRAIC proves the claims from identities at the knots; SAMPLED
    measures the risk along every segment, independently of any claim."""

    ALGEBRAIC = 0
    SAMPLED = 1


def certificate_kind(kind):
    """CertificateKind from a CertificateKind, an int or a name."""
    if isinstance(kind, str):
        try:
            return CertificateKind[kind.strip().upper()]
        except KeyError:
            raise ValueError("unknown certificate kind %r (algebraic, sampled)" % (kind,))
    return CertificateKind(kind)


# Figures (nslm_certificate_get) and tolerances (..._set_tolerance).
_FIGURES = ["risk_start", "risk_end", "max_constant_deviation", "max_convexity_violation",
            "max_increase", "max_r", "r_exact", "claims_nonincreasing", "risk_evaluations",
            "failed_segments"]
_TOLERANCES = ["identity", "constant", "convex", "increase", "feasible"]


def default_tolerance():
    """The default of every certificate tolerance (relative)."""
    return lib.nslm_certificate_default_tolerance()


class Certificate(Handle):
    """The measurements of a certificate, judged against tolerances that can
    be changed afterwards.  bool(cert) and cert.passed tell whether every
    claim holds; str(cert) is the one-line summary.

    Figures (read-only attributes): risk_start, risk_end,
    max_constant_deviation, max_convexity_violation, max_increase, max_r,
    r_exact, claims_nonincreasing, risk_evaluations, failed_segments.
    Created by Path.certify().
    """

    _destroy = "nslm_certificate_destroy"

    def __init__(self):
        raise TypeError("certificates are made by Path.certify()")

    @property
    def kind(self):
        """The CertificateKind."""
        k = ctypes.c_int()
        lib.nslm_certificate_kind(self._ptr, ctypes.byref(k))
        return CertificateKind(k.value)

    @property
    def num_segments(self):
        """Number of segments judged."""
        return lib.nslm_certificate_num_segments(self._ptr)

    def __len__(self):
        return self.num_segments

    def figure(self, name):
        """One figure by name (see the class docstring)."""
        v = ctypes.c_double()
        lib.nslm_certificate_get(self._ptr, _FIGURES.index(name), ctypes.byref(v))
        return v.value

    def __getattr__(self, name):
        if name in _FIGURES:
            v = self.figure(name)
            return bool(v) if name in ("r_exact", "claims_nonincreasing") else v
        raise AttributeError(name)

    @property
    def figures(self):
        """Every figure, as a dict."""
        return {name: getattr(self, name) for name in _FIGURES}

    def segment(self, s):
        """(kind, measure, passed) of segment s: its claimed SegmentKind, the
        figure its claim is judged by (0 for GENERAL), whether it passes."""
        from .path import SegmentKind
        k, m, p = ctypes.c_int(), ctypes.c_double(), ctypes.c_int()
        lib.nslm_certificate_segment(self._ptr, int(s), ctypes.byref(k), ctypes.byref(m),
                                     ctypes.byref(p))
        return SegmentKind(k.value), m.value, bool(p.value)

    @property
    def segments(self):
        """segment(s) for every segment."""
        return [self.segment(s) for s in range(self.num_segments)]

    def tolerance(self, which):
        """A tolerance: 'identity', 'constant', 'convex', 'increase' or
        'feasible'."""
        v = ctypes.c_double()
        lib.nslm_certificate_get_tolerance(self._ptr, _tol(which), ctypes.byref(v))
        return v.value

    def set_tolerance(self, which, tol):
        """Changes a tolerance (or all of them with which='all'); passed and
        the per-segment verdicts follow."""
        for w in (_TOLERANCES if which == "all" else [which]):
            lib.nslm_certificate_set_tolerance(self._ptr, _tol(w), float(tol))

    @property
    def passed(self):
        """True if every claim holds within the current tolerances."""
        p = ctypes.c_int()
        lib.nslm_certificate_passed(self._ptr, ctypes.byref(p))
        return bool(p.value)

    def __bool__(self):
        return self.passed

    @property
    def summary(self):
        """The one-line human summary."""
        needed = ctypes.c_size_t()
        lib.nslm_certificate_summary(self._ptr, None, 0, ctypes.byref(needed))
        buf = ctypes.create_string_buffer(needed.value)
        lib.nslm_certificate_summary(self._ptr, ctypes.addressof(buf), needed.value,
                                     ctypes.byref(needed))
        return buf.value.decode("utf-8", "replace")

    def __str__(self):
        return self.summary if not self.closed else "<nslm.Certificate closed>"

    def __repr__(self):
        return "<nslm.Certificate %s>" % (self.summary if not self.closed else "closed")


def _tol(which):
    if isinstance(which, str):
        try:
            return _TOLERANCES.index(which)
        except ValueError:
            raise ValueError("unknown tolerance %r (%s)" % (which, ", ".join(_TOLERANCES)))
    return int(which)
