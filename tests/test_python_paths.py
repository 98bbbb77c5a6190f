"""Paths, certificates, the construction, landscape tools, the Caratheodory
reduction and the plot helpers through Python, cross-checked with numpy
computations written here, with their error paths."""

import math
import os
import sys
import tempfile
import xml.dom.minidom

import pyharness
from pyharness import raises, run

import numpy as np

import nslm

TMP = tempfile.mkdtemp(prefix="nslm-py-")
R = np.random.default_rng(77)


def relu(x):
    return np.maximum(x, 0)


def forward(layers, x):
    h = x
    for w in layers[:-1]:
        h = relu(h @ w.T)
    return h @ layers[-1].T


def risk_np(layers, x, y):
    return float(np.sum((forward(layers, x) - y) ** 2))


def close(a, b, rtol=1e-12):
    return abs(a - b) <= rtol * max(1.0, abs(b))


def problem(widths=(3, 30, 20, 2), n=6, seed=0):
    r = np.random.default_rng(seed)
    x, y = r.normal(size=(n, widths[0])), r.normal(size=(n, widths[-1]))
    th = [r.normal(size=(widths[j + 1], widths[j])) / math.sqrt(widths[j])
          for j in range(len(widths) - 1)]
    ga = [r.normal(size=(widths[j + 1], widths[j])) / math.sqrt(widths[j])
          for j in range(len(widths) - 1)]
    return (nslm.Net(widths), nslm.Data(x, y), nslm.Loss(), nslm.Params.from_layers(th),
            nslm.Params.from_layers(ga), x, y, th, ga)


# ---------------------------------------------------------------- Path

def test_path_object():
    net, data, loss, theta, gamma, x, y, th, ga = problem()
    mid = nslm.Params.interpolate(theta, gamma, 0.5)
    p = nslm.Path(net, theta)
    assert (p.num_knots, p.num_segments, len(p)) == (1, 0, 0)
    p.append(mid).append(gamma, nslm.SegmentKind.CONVEX)
    assert p.kinds == [nslm.SegmentKind.GENERAL, nslm.SegmentKind.CONVEX]
    assert p.knot(0) == theta and p.knot(2) == gamma and len(p.knots) == 3
    assert list(p.layers(0)) == [True, True, True]
    # the point at t: segment s covers [s/S, (s+1)/S]
    for t in (0.0, 0.2, 0.5, 0.8, 1.0):
        s, u = (0, 2 * t) if t < 0.5 else (1, 2 * t - 1)
        a, b = (th, [(p_ + q_) / 2 for p_, q_ in zip(th, ga)])[::1] if s == 0 else (
            [(p_ + q_) / 2 for p_, q_ in zip(th, ga)], ga)
        want = [(1 - u) * wa + u * wb for wa, wb in zip(a, b)]
        got = p.point(t).layers
        assert all(np.allclose(g, w, rtol=0, atol=1e-15) for g, w in zip(got, want)), t
    q = p.reversed()
    assert q.knot(0) == gamma and q.kinds == [nslm.SegmentKind.CONVEX, nslm.SegmentKind.GENERAL]
    c = p.copy()
    c.extend(q)
    assert c.num_segments == 4 and p.num_segments == 2
    p.set_kind(0, "constant")
    assert p.kind(0) == nslm.SegmentKind.CONSTANT
    assert not p.nonincreasing
    p.nonincreasing = True
    assert p.nonincreasing and p.copy().nonincreasing and not p.reversed().nonincreasing
    assert p.grid_size(5) == 2 * 4 + 1 and p.stored_values > 0
    assert "2 segments" in repr(p)
    raises(nslm.RangeError, p.knot, 3)
    raises(ValueError, p.set_kind, 0, 7)
    raises(nslm.DimensionError, p.append, nslm.Params(nslm.Net([3, 5, 2])))
    raises(nslm.NslmError, p.copy().extend, p)  # first knot != last knot
    p.close()
    assert repr(p) == "<nslm.Path closed>"


def test_path_eval_against_numpy():
    net, data, loss, theta, gamma, x, y, th, ga = problem()
    p = nslm.Path(net, theta).append(gamma)
    con = nslm.Constraint(1.0, 0.5, 2.0)
    ts = np.array([0.0, 0.3, 0.7, 1.0])
    prof = p.eval(data, loss, t=ts, constraint=con, losses=True)
    for i, t in enumerate(ts):
        layers = [(1 - t) * a + t * b for a, b in zip(th, ga)]
        assert close(prof.risk[i], risk_np(layers, x, y), 1e-11)
        want_r = max(1.0 * max(np.max(np.sum(np.abs(w), axis=1)) for w in layers[1:]),
                     0.5 * np.max(np.sqrt(np.sum(layers[0] ** 2, axis=1))))
        assert close(prof.r[i], want_r, 1e-12)
        per = np.sum((forward(layers, x) - y) ** 2, axis=1)
        assert np.allclose(prof.losses[i], per, rtol=1e-11, atol=1e-13)
    grid = p.eval(data, loss, points=5)
    assert np.allclose(grid.t, np.linspace(0, 1, 5), rtol=0, atol=1e-15) and grid.r is None
    plain = p.eval(data, loss, points=5, plain=True)
    assert np.allclose(plain.risk, grid.risk, rtol=1e-12)


def test_progress_and_cancel():
    net, data, loss, theta, gamma, *_ = problem()
    p = nslm.Path(net, theta).append(gamma)
    seen = []
    p.eval(data, loss, points=50, progress=seen.append)
    assert seen and all(0 <= a <= b <= 1 for a, b in zip(seen, seen[1:]))
    e = raises(nslm.CancelledError, p.eval, data, loss, points=50, progress=lambda f: f > 0.3)
    assert e.status == nslm.Status.CANCELLED

    def boom(f):
        raise ValueError("stop here")
    e = raises(nslm.CancelledError, p.eval, data, loss, points=50, progress=boom)
    assert isinstance(e.__cause__, ValueError)

    def interrupt(f):
        raise KeyboardInterrupt
    raises(KeyboardInterrupt, p.eval, data, loss, points=50, progress=interrupt)
    # the path is intact after a cancelled call
    assert close(p.eval(data, loss, t=[1.0]).risk[0], nslm.risk(net, gamma, data, loss))


def test_certificates():
    net, data, loss, theta, gamma, *_ = problem()
    p = nslm.Path(net, theta).append(gamma)
    cert = p.certify(data, loss, kind="sampled", points=9)
    assert cert.passed and bool(cert) and cert.kind == nslm.CertificateKind.SAMPLED
    assert len(cert) == 1 and cert.segments[0][0] == nslm.SegmentKind.GENERAL
    assert close(cert.risk_start, nslm.risk(net, theta, data, loss))
    assert close(cert.risk_end, nslm.risk(net, gamma, data, loss))
    assert set(cert.figures) >= {"max_r", "risk_evaluations", "failed_segments"}
    assert "SAMPLED" in str(cert) and "PASS" in cert.summary
    assert cert.tolerance("constant") == nslm.default_tolerance()
    # a planted false claim is caught, and tolerances decide afterwards
    p.set_kind(0, "constant")
    bad = p.certify(data, loss, kind="sampled")
    assert not bad.passed and bad.failed_segments == 1 and not bad.segments[0][2]
    bad.set_tolerance("all", 1e9)
    assert bad.passed
    raises(ValueError, bad.tolerance, "nonsense")
    raises(nslm.InvalidArgumentError, bad.set_tolerance, "constant", -1.0)
    raises(TypeError, nslm.Certificate)
    alg = p.certify(data, loss, kind="algebraic")
    assert not alg.passed and alg.kind == nslm.CertificateKind.ALGEBRAIC
    raises(ValueError, p.certify, data, loss, kind="vibes")


def test_path_files():
    net, data, loss, theta, gamma, *_ = problem()
    p = nslm.Path(net, theta).append(gamma, "convex")
    fn = os.path.join(TMP, "p.npz")
    p.save(fn)
    with np.load(fn) as z:
        assert "header" in z.files and "checksum" in z.files
    q = nslm.Path.load(fn, net)
    assert q.kinds == p.kinds and q.knot(1) == gamma
    raises(nslm.DimensionError, nslm.Path.load, fn, nslm.Net([3, 5, 2]))
    with open(fn, "r+b") as fh:
        fh.seek(100)
        fh.write(b"\xff\xff\xff\xff")
    raises(nslm.FileFormatError, nslm.Path.load, fn, net)
    raises(nslm.NslmIOError, nslm.Path.load, os.path.join(TMP, "none.npz"), net)


# ---------------------------------------------------------------- construction

def test_options():
    o = nslm.ConstructOptions(mode="joint", rank_tol=1e-10)
    assert o.mode == "joint" and o.rank_tol == 1e-10
    o.mode = nslm.CompressMode.SHARED
    assert o.mode == "shared" and o.global_max_iter >= 1
    raises(AttributeError, setattr, o, "colour", 1)
    raises(ValueError, setattr, o, "mode", "diagonal")
    raises(nslm.InvalidArgumentError, setattr, o, "rank_tol", 2.0)
    assert "mode=shared" in repr(o)
    raises(TypeError, nslm.compress_widths, None, None, None, options=o, mode="row")


def test_compress_is_exact_pruning():
    net, data, loss, theta, gamma, x, y, th, ga = problem(widths=(3, 40, 30, 2))
    con = nslm.Constraint(0.2, 0.2, 1.0)
    res = nslm.compress(net, theta, data, constraint=con)
    g0, g1 = forward(th, x), forward(res.params.layers, x)
    assert np.max(np.abs(g1 - g0)) <= 1e-10 * np.max(np.abs(g0))
    layers = res.params.layers
    active = [int(np.sum(np.any(layers[j - 1] != 0, axis=1) | np.any(layers[j] != 0, axis=0)))
              for j in (1, 2)]
    assert res.active == active == nslm.active_widths(res.params)
    assert res.active == nslm.compress_widths(net, theta, data, constraint=con)
    assert list(nslm.active_units(res.params, 1)) == list(
        np.any(layers[0] != 0, axis=1) | np.any(layers[1] != 0, axis=0))
    assert close(res.r_before, con(theta)) and res.r_after <= res.r_before * (1 + 1e-12)
    assert res.path.num_segments == 3 and set(res.path.kinds) == {nslm.SegmentKind.CONSTANT}
    assert res.path.certify(data, loss, kind="algebraic").passed
    assert nslm.compress(net, theta, data, path=False).path is None
    j = nslm.compress(net, theta, data, mode="joint")
    assert all(a <= data.n for a in j.active)


def test_blocks_permutations_relocation():
    net, data, loss, theta, gamma, x, y, th, ga = problem(widths=(3, 20, 16, 2))
    res = nslm.compress(net, theta, data, mode="joint")
    blk = res.params
    masks = [nslm.active_units(blk, j) for j in (1, 2)]
    assert nslm.is_block(blk, masks) and nslm.is_block(blk, np.concatenate(masks))
    assert nslm.is_upper_block(theta, 20) and not nslm.is_upper_block(theta, 5)
    assert nslm.is_lower_block(theta, 20)
    perms = [R.permutation(20), R.permutation(16)]
    pt = nslm.permute_units(theta, perms)
    P1, P2 = perms
    assert np.array_equal(pt[0], th[0][P1, :]) and np.array_equal(pt[1], th[1][P2][:, P1])
    assert np.array_equal(pt[2], th[2][:, P2])
    assert np.allclose(forward(pt.layers, x), forward(th, x), rtol=1e-13, atol=1e-13)
    raises(nslm.InvalidArgumentError, nslm.permute_units, theta, [np.zeros(20, int),
                                                                  np.arange(16)])
    moved, path = nslm.relocate(net, blk, masks)
    new = [nslm.active_units(moved, j) for j in (1, 2)]
    assert not any(np.any(a & b) for a, b in zip(new, masks))
    assert np.allclose(forward(moved.layers, x), forward(blk.layers, x), rtol=1e-13, atol=1e-13)
    assert set(path.kinds) == {nslm.SegmentKind.CONSTANT}
    full = [np.ones(20, bool), np.ones(16, bool)]
    e = raises(nslm.TooNarrowError, nslm.relocate, net, blk, full)
    assert "layer" in e.detail
    raises(ValueError, nslm.relocate, net, blk, [np.ones(3), np.ones(16)])


def test_connect_descent_global():
    net, data, loss, theta, gamma, x, y, th, ga = problem(widths=(3, 40, 30, 2))
    g = nslm.global_minimize(net, gamma, data, loss)
    assert g.rank == data.n and g.certified and g.grad_norm < 1e-8
    # numpy: the least-squares last layer on the same features interpolates
    feats = relu(relu(x @ ga[0].T) @ ga[1].T)
    w, *_ = np.linalg.lstsq(feats, y, rcond=None)
    assert np.allclose(feats @ g.params[2].T, feats @ w, atol=1e-10)
    assert nslm.risk(net, g.params, data, loss) <= 1e-18
    needed, fits = nslm.connect_widths(net, theta, g.params, data, mode="joint")
    assert fits and all(n_ <= 2 * data.n for n_ in needed)
    p = nslm.connect(net, theta, g.params, data, mode="joint")
    assert p.kinds.count(nslm.SegmentKind.CONVEX) == 1
    assert p.knot(0) == theta and p.knot(p.num_knots - 1) == g.params
    d, cut = nslm.descent(net, theta, g.params, data, loss, mode="joint")
    assert 0 <= cut <= 1 and d.nonincreasing
    ts = np.linspace(0, 1, 8 * d.num_segments + 1)
    rs = [risk_np(d.point(t).layers, x, y) for t in ts]
    scale = max(rs)
    assert all(b <= a + 1e-10 * scale for a, b in zip(rs, rs[1:]))
    assert rs[-1] <= 1e-10 * scale
    cut_path, t_cut, risk_end = p.descent_cut(data, loss)
    assert 0 <= t_cut <= 1 and risk_end <= nslm.risk(net, theta, data, loss)
    rise, ok = nslm.penalized_report(net, d, data, loss, nslm.Constraint(1, 1, 1), 0.0)
    assert rise.shape == (d.num_segments,) and ok.dtype == bool
    narrow = nslm.Net([3, 6, 5, 2])
    t2, g2 = nslm.Params.random(narrow, seed=1), nslm.Params.random(narrow, seed=2)
    e = raises(nslm.TooNarrowError, nslm.connect, narrow, t2, g2, data)
    assert e.status == nslm.Status.TOO_NARROW and "needs" in e.detail
    assert nslm.connect_widths(narrow, t2, g2, data)[1] is False


# ---------------------------------------------------------------- landscape

def test_line_barrier_directions_planes():
    net, data, loss, theta, gamma, x, y, th, ga = problem()
    prof = nslm.line(net, data, loss, theta, gamma, points=7)
    for i, t in enumerate(prof.t):
        assert close(prof.risk[i], risk_np([(1 - t) * a + t * b for a, b in zip(th, ga)], x, y),
                     1e-11)
    h, at = nslm.barrier(prof.t, prof.risk)
    chord = (1 - prof.t) * prof.risk[0] + prof.t * prof.risk[-1]
    assert close(h, float(np.max(prof.risk - chord))) and at == prof.t[np.argmax(prof.risk - chord)]
    raises(nslm.NslmError, nslm.barrier, [0.0], [1.0])
    d1, d2 = nslm.directions(theta, seed=3)
    flat1 = np.concatenate([w.ravel() for w in d1.layers])
    flat2 = np.concatenate([w.ravel() for w in d2.layers])
    assert abs(flat1 @ flat2) <= 1e-10 * (flat1 @ flat1)
    for w, c in zip(d1.layers, th):
        assert np.allclose(np.linalg.norm(w, axis=1), np.linalg.norm(c, axis=1), rtol=1e-12)
    pl = nslm.plane(net, data, loss, theta, d1, d2, alpha=(-1, 1, 5), beta=(-1, 1, 3))
    assert pl.risk.shape == (5, 3) and pl.r is None
    assert close(pl.risk[2, 1], nslm.risk(net, theta, data, loss), 1e-11)
    want = risk_np([c + w for c, w in zip(th, d1.layers)], x, y)
    assert close(pl.risk[4, 1], want, 1e-11)
    pl3 = nslm.plane3(net, data, loss, theta, gamma, theta, alpha=(0, 1, 3), beta=(0, 1, 3),
                      constraint=nslm.Constraint(1, 1, 1))
    assert close(pl3.risk[2, 0], nslm.risk(net, gamma, data, loss), 1e-11) and pl3.r.shape == (3, 3)
    nslm.write_profile_csv(os.path.join(TMP, "l.csv"), prof.t, prof.risk)
    got = np.genfromtxt(os.path.join(TMP, "l.csv"), delimiter=",", names=True)
    assert np.allclose(got["risk"], prof.risk, rtol=1e-15)
    nslm.write_profile_svg(os.path.join(TMP, "l.svg"), prof.t, prof.risk, title="a <line> & co")
    xml.dom.minidom.parse(os.path.join(TMP, "l.svg"))
    nslm.write_plane_csv(os.path.join(TMP, "p.csv"), pl3)
    assert len(np.genfromtxt(os.path.join(TMP, "p.csv"), delimiter=",", names=True)) == 9
    nslm.write_plane_svg(os.path.join(TMP, "p.svg"), pl3, marks=[(0, 0), (1, 0), (0, 1)])
    xml.dom.minidom.parse(os.path.join(TMP, "p.svg"))
    raises(ValueError, nslm.write_plane_svg, os.path.join(TMP, "q.svg"), pl3, np.zeros((2, 2)))


# ---------------------------------------------------------------- Caratheodory

def test_caratheodory():
    z = R.normal(size=(50, 6))
    t = R.normal(size=50)
    for q in (1.0, 0.5):
        red = nslm.caratheodory_reduce(z, t, q=q)
        assert red.rank == 6 and red.nnz <= 6 and red.nnz == np.count_nonzero(red.t)
        target = t @ z
        scale = np.sum(np.abs(t) * np.linalg.norm(z, axis=1))
        assert np.linalg.norm(red.t @ z - target) <= max(red.residual, 1e-14) * scale * 1.01
        assert np.all((red.t == 0) | (np.sign(red.t) == np.sign(t)))
        assert np.sum(np.abs(red.t) ** q) <= np.sum(np.abs(t) ** q) * (1 + 1e-12)
        assert close(red.norm_before, np.sum(np.abs(t) ** q) ** (1 / q))
    w = R.normal(size=(4, 50))
    rows = nslm.caratheodory_reduce_rows(z, w, options=nslm.CaratheodoryOptions(mode="paper"))
    assert rows.w.shape == (4, 50) and np.all(rows.nnz <= 7)
    assert np.array_equal(rows.used, np.any(rows.w != 0, axis=0))
    assert np.allclose(rows.w @ z, w @ z, rtol=1e-9, atol=1e-9)
    calls = []
    opts = nslm.CaratheodoryOptions(progress=calls.append, rank_tol=1e-12)
    assert opts.mode == "tight" and opts.rank_tol == 1e-12 and opts.num_threads == 0
    nslm.caratheodory_reduce_rows(z, w, options=opts)
    assert calls
    raises(nslm.InvalidArgumentError, nslm.caratheodory_reduce, z, t, q=1.5)
    raises(ValueError, nslm.caratheodory_reduce, z, t[:10])
    raises(ValueError, setattr, opts, "mode", "loose")
    assert 0 < nslm.default_rank_tol() < 1e-6


# ---------------------------------------------------------------- plots

def test_plot_helpers():
    net, data, loss, theta, gamma, *_ = problem()
    p = nslm.Path(net, theta).append(gamma)
    prof = p.eval(data, loss, points=9, constraint=nslm.Constraint(1, 1, 1))
    pl = nslm.plane3(net, data, loss, theta, gamma, theta, alpha=(0, 1, 4), beta=(0, 1, 4))
    if nslm.plot.have_matplotlib():
        import matplotlib
        matplotlib.use("Agg")
        ax = nslm.plot.plot_profile(prof, path=p, title="profile")
        ax.figure.savefig(os.path.join(TMP, "prof.png"))
        ax = nslm.plot.plot_plane(pl, marks=[(0, 0), (1, 0)], labels=["A", "B"], log=True)
        ax.figure.savefig(os.path.join(TMP, "plane.png"))
        assert os.path.getsize(os.path.join(TMP, "plane.png")) > 1000
    else:
        print("     (matplotlib absent: only the message is checked)")
    saved = {k: v for k, v in sys.modules.items() if k.startswith("matplotlib")}
    try:
        for k in saved:
            del sys.modules[k]
        sys.modules["matplotlib"] = None  # makes the import fail
        e = raises(ImportError, nslm.plot.plot_profile, prof)
        assert "apt-get install python3-matplotlib" in str(e)
        assert not nslm.plot.have_matplotlib()
    finally:
        del sys.modules["matplotlib"]
        sys.modules.update(saved)


if __name__ == "__main__":
    run(globals())
