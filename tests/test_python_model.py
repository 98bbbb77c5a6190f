"""The model layer through Python: Net, Params, Data, Loss, Constraint,
evaluation and files, each cross-checked with numpy computations written
here (never with the library itself), and every error path."""

import math
import os
import tempfile

import pyharness
from pyharness import raises, run

import numpy as np

import nslm

RNG = np.random.default_rng(20211)

# Tolerances: the library's forward pass and numpy's both round each
# product to ~1e-16 relative per term; for these sizes (<= 60 terms per
# dot product, depth <= 3) agreement to 1e-12 relative is ample.
RTOL = 1e-12

ACTS = {
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "identity": lambda x: x,
}


def forward(layers, x, acts):
    """numpy reference: g(x) = W^l f(... f(W^0 x))."""
    h = x
    for w, f in zip(layers[:-1], acts):
        h = f(h @ w.T)
    return h @ layers[-1].T


def random_problem(widths=(3, 7, 5, 2), n=9, seed=0):
    r = np.random.default_rng(seed)
    layers = [r.normal(size=(widths[j + 1], widths[j])) / math.sqrt(widths[j])
              for j in range(len(widths) - 1)]
    x = r.normal(size=(n, widths[0]))
    y = r.normal(size=(n, widths[-1]))
    return layers, x, y


def close(a, b, rtol=RTOL):
    a, b = np.asarray(a), np.asarray(b)
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return a.shape == b.shape and float(np.max(np.abs(a - b))) <= rtol * scale if a.size else True


# ---------------------------------------------------------------- Net

def test_net_widths_depth_activations():
    with nslm.Net([3, 7, 5, 2]) as net:
        assert net.widths == (3, 7, 5, 2) and net.depth == 2
        assert net.activation(1) == (nslm.Activation.RELU, net.activation(1)[1], net.activation(1)[2])
        net.set_activations(["tanh", ("leaky_relu", 0.2)])
        assert net.activation(1)[0] == nslm.Activation.TANH
        kind, c, _ = net.activation(2)
        assert kind == nslm.Activation.LEAKY_RELU and c == 0.2
        net.set_activation(2, "poly", 0.5, 3)
        assert net.activation(2) == (nslm.Activation.POLY, 0.5, 3.0)
        assert "poly" in repr(net)
    assert net.closed and repr(net) == "<nslm.Net closed>"


def test_net_paper_bound():
    net = nslm.Net([3, 7, 5, 2])
    for n in (1, 4, 10):
        assert net.paper_width_bound(n) == 2 * 2 * (n + 1) ** 2
    net.close()


def test_net_threads():
    net = nslm.Net([2, 3, 1])
    net.num_threads = 2
    assert net.num_threads == 2
    net.num_threads = 0  # the default: an effective count >= 1
    assert net.num_threads >= 1


def test_net_errors():
    e = raises(nslm.DimensionError, nslm.Net, [3, 0, 2])
    assert e.status == nslm.Status.DIMENSION and "widths" in e.detail
    assert "nslm_net_create" in e.function
    raises(ValueError, nslm.Net, [3, 2])
    net = nslm.Net([3, 4, 2])
    raises(ValueError, net.set_activation, 1, "swish")
    e = raises(nslm.RangeError, net.set_activation, 2, "relu")
    assert isinstance(e, IndexError) and e.status == nslm.Status.RANGE
    raises(nslm.InvalidArgumentError, net.set_activation, 1, "poly", 1.0, 0.5)
    raises(ValueError, net.set_activations, ["relu", "relu"])
    net.close()
    net.close()  # idempotent
    raises(ValueError, lambda: net.depth)  # closed


def test_net_for_params():
    layers, _, _ = random_problem()
    theta = nslm.Params.from_layers(layers)
    net = nslm.Net.for_params(theta, activations="tanh")
    assert net.widths == (3, 7, 5, 2) and net.activation(2)[0] == nslm.Activation.TANH


def test_activation_kinds_against_numpy():
    layers, x, y = random_problem()
    theta = nslm.Params.from_layers(layers)
    data = nslm.Data(x, y)
    for name, f in ACTS.items():
        net = nslm.Net([3, 7, 5, 2], activations=name)
        assert close(nslm.outputs(net, theta, data), forward(layers, x, [f, f])), name
    net = nslm.Net([3, 7, 5, 2], activations=[("leaky", 0.1), ("poly", 0.5, 3)])
    want = forward(layers, x, [lambda t: np.maximum(t, 0.1 * t), lambda t: 0.5 * t ** 3])
    assert close(nslm.outputs(net, theta, data), want)


def test_activation_callback():
    layers, x, y = random_problem()
    theta, data = nslm.Params.from_layers(layers), nslm.Data(x, y)
    calls = []

    def softplus(t):  # in place
        calls.append(len(t))
        np.logaddexp(0, t, out=t)

    net = nslm.Net([3, 7, 5, 2])
    net.set_activation_callback(1, softplus)
    net.set_activation(2, lambda t: np.sin(t))  # returns a new array
    assert net.activation(1)[0] == nslm.Activation.CALLBACK
    want = forward(layers, x, [lambda t: np.logaddexp(0, t), np.sin])
    assert close(nslm.outputs(net, theta, data), want) and calls

    def broken(t):
        raise RuntimeError("boom")
    net.set_activation_callback(1, broken)
    e = raises(nslm.CallbackError, nslm.outputs, net, theta, data)
    assert e.status == nslm.Status.CALLBACK and isinstance(e.__cause__, RuntimeError)
    # no derivative: the gradient is unsupported
    net.set_activation_callback(1, softplus)
    raises(nslm.UnsupportedError, nslm.gradient, net, theta, data, nslm.Loss())


# ---------------------------------------------------------------- Params

def test_params_layers_roundtrip_and_strides():
    layers, _, _ = random_problem()
    theta = nslm.Params.from_layers(layers)
    assert theta.widths == (3, 7, 5, 2) and len(theta) == 3 and theta.depth == 2
    assert theta.shapes == [(7, 3), (5, 7), (2, 5)]
    for j, w in enumerate(layers):
        assert np.array_equal(theta[j], w) and np.array_equal(theta.layer(j), w)
    assert np.array_equal(theta[-1], layers[-1])
    # Fortran order and a strided slice go in without a copy and correctly.
    big = RNG.normal(size=(10, 14))
    theta[1] = np.asfortranarray(big[:5, :7])
    assert np.array_equal(theta[1], big[:5, :7])
    theta[1] = big[::2, ::2]
    assert np.array_equal(theta[1], big[::2, ::2])
    theta[1] = big[::-2, :7][:5]  # negative strides: converted
    assert np.array_equal(theta[1], big[::-2, :7][:5])
    # out= receives the layer through its strides
    out = np.zeros((7, 5)).T
    theta.layer(1, out=out)
    assert np.array_equal(out, big[::-2, :7][:5])
    assert [w.shape for w in theta] == [(7, 3), (5, 7), (2, 5)]


def test_params_random_and_equality():
    net = nslm.Net([4, 6, 3])
    a = nslm.Params.random(net, seed=7)
    b = nslm.Params.random(net, seed=7)
    c = nslm.Params.random(net, seed=8, dist="normal", scale=2.0)
    assert a == b and a != c and not (a == 3)
    # uniform on [-s, s], s = 1/sqrt(fan_in)
    for j, w in enumerate(a.layers):
        assert np.all(np.abs(w) <= 1 / math.sqrt(w.shape[1]))
    z = nslm.Params(net)
    assert all(not w.any() for w in z.layers)
    raises(ValueError, a.init_random, 1, "cauchy")


def test_params_copy_assign_interpolate():
    layers, _, _ = random_problem()
    other, _, _ = random_problem(seed=5)
    a, b = nslm.Params.from_layers(layers), nslm.Params.from_layers(other)
    c = a.copy()
    c[0] = np.zeros((7, 3))
    assert a != c and np.array_equal(a[0], layers[0])
    c.assign(b)
    assert c == b
    for t in (0.0, 0.3, 1.0):
        p = nslm.Params.interpolate(a, b, t)
        for j in range(3):
            assert close(p[j], (1 - t) * layers[j] + t * other[j], 1e-15)
    assert nslm.Params.interpolate(a, b, 0.0) == a and nslm.Params.interpolate(a, b, 1.0) == b
    small = nslm.Params(nslm.Net([3, 4, 2]))
    raises(nslm.DimensionError, c.assign, small)


def test_params_supports():
    layers, _, _ = random_problem()
    layers[1][2, :] = 0
    layers[1][:, 4] = 0
    theta = nslm.Params.from_layers(layers)
    assert np.array_equal(theta.row_support(1), np.any(layers[1] != 0, axis=1))
    assert np.array_equal(theta.col_support(1), np.any(layers[1] != 0, axis=0))
    raises(nslm.RangeError, theta.row_support, 3)


def test_params_errors():
    layers, _, _ = random_problem()
    raises(nslm.DimensionError, nslm.Params.from_layers, [layers[0], layers[0]])
    raises(nslm.DimensionError, nslm.Params.from_layers, [layers[0]])
    theta = nslm.Params.from_layers(layers)
    bad = layers[0].copy()
    bad[1, 1] = np.nan
    e = raises(nslm.NonFiniteError, theta.set_layer, 0, bad)
    assert np.array_equal(theta[0], layers[0])  # untouched
    assert e.status == nslm.Status.NONFINITE
    raises(nslm.DimensionError, theta.set_layer, 0, np.zeros((3, 7)))
    raises(ValueError, theta.set_layer, 0, np.zeros(21))
    raises(TypeError, theta.__getitem__, "a")
    raises(TypeError, theta.layer, 0, np.zeros((7, 3), dtype=np.float32))
    raises(ValueError, theta.layer, 0, np.zeros((3, 7)))


def test_params_save_load():
    layers, _, _ = random_problem()
    theta = nslm.Params.from_layers(layers)
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "theta.npz")
        theta.save(f)
        with np.load(f) as z:
            assert sorted(z.files) == ["layer_0", "layer_1", "layer_2"]
            for j in range(3):
                assert np.array_equal(z["layer_%d" % j], layers[j])
        back = nslm.Params.load(f)
        assert back == theta
        # numpy-written archives load too (PyTorch weights saved with np.savez)
        g = os.path.join(d, "np.npz")
        np.savez(g, **{"layer_%d" % j: w for j, w in enumerate(layers)})
        assert nslm.Params.load(g) == theta
        junk = os.path.join(d, "junk.npz")
        with open(junk, "wb") as fh:
            fh.write(b"PK\x03\x04 not really a zip archive")
        e = raises(nslm.FileFormatError, nslm.Params.load, junk)
        assert e.detail
        raises(nslm.NslmIOError, nslm.Params.load, os.path.join(d, "missing.npz"))
        raises(nslm.NslmIOError, theta.save, os.path.join(d, "no", "such", "dir.npz"))


# ---------------------------------------------------------------- Data

def test_data():
    _, x, y = random_problem()
    data = nslm.Data(np.asfortranarray(x), y[:, 0])  # 1-D y is a column
    assert (data.n, data.d, data.m, len(data)) == (9, 3, 1, 9)
    assert np.array_equal(data.x, x) and np.array_equal(data.y[:, 0], y[:, 0])
    assert "n=9" in repr(data)
    e = raises(nslm.DimensionError, nslm.Data, x, y[:5])
    assert "rows" in e.detail
    bad = x.copy()
    bad[0, 0] = np.inf
    raises(nslm.NonFiniteError, nslm.Data, bad, y)
    raises(ValueError, nslm.Data, np.zeros((2, 2, 2)), y)


# ---------------------------------------------------------------- Loss

def loss_formulas():
    def huber(r, delta):
        a = np.abs(r)
        return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))
    return {
        "squared": (0.0, lambda a, y: np.sum((a - y) ** 2), None),
        "absolute": (0.0, lambda a, y: np.sum(np.abs(a - y)), None),
        "huber": (0.7, lambda a, y: np.sum(huber(a - y, 0.7)), None),
        "logistic": (0.0, lambda a, y: np.sum(np.logaddexp(0, -y * a)), "sign"),
        "hinge": (0.0, lambda a, y: np.sum(np.maximum(0, 1 - y * a)), "sign"),
        "logistic_paper": (0.0, lambda a, y: np.sum(-(1 + y) * np.log1p(a) - (1 - y) * np.log1p(-a)),
                           "paper"),
        "softmax_ce": (0.0, lambda a, y: -np.sum(y * (a - np.logaddexp.reduce(a))), "prob"),
    }


def test_loss_kinds_against_formulas():
    for name, (param, f, ykind) in loss_formulas().items():
        loss = nslm.Loss(name, param)
        assert loss.kind == nslm.LossKind[name.upper()]
        for _ in range(5):
            a, y = RNG.normal(size=4), RNG.normal(size=4)
            if ykind == "sign":
                y = np.sign(y)
            elif ykind == "paper":
                a, y = np.tanh(a) * 0.9, np.tanh(y)
            elif ykind == "prob":
                y = np.exp(y) / np.exp(y).sum()
            v, g = loss(a, y, grad=True)
            assert abs(v - f(a, y)) <= 1e-12 * max(1, abs(f(a, y))), (name, v, f(a, y))
            # the gradient against central differences (h = 1e-6: error
            # O(h^2 f''') ~ 1e-12 plus rounding 1e-16/h ~ 1e-10)
            if name in ("absolute", "hinge"):
                continue  # kinks: subgradients
            h = 1e-6
            fd = np.array([(f(a + h * e, y) - f(a - h * e, y)) / (2 * h) for e in np.eye(4)])
            assert np.max(np.abs(g - fd)) <= 1e-6, (name, g, fd)
        assert name.split("_")[0] in repr(loss)


def test_loss_errors():
    raises(ValueError, nslm.Loss, "cosine")
    raises(nslm.InvalidArgumentError, nslm.Loss, "huber", -1.0)
    loss = nslm.Loss("logistic_paper")
    raises(nslm.InvalidArgumentError, loss, np.array([1.5]), np.array([0.0]))
    raises(ValueError, nslm.Loss(), np.zeros(3), np.zeros(2))


def test_loss_callback():
    layers, x, y = random_problem()
    theta, data, net = nslm.Params.from_layers(layers), nslm.Data(x, y), nslm.Net([3, 7, 5, 2])

    def quartic(a, y):
        r = a - y
        return float(np.sum(r ** 4)), 4 * r ** 3

    loss = nslm.Loss.callback(quartic)
    assert loss.kind == nslm.LossKind.CALLBACK
    g = forward(layers, x, [ACTS["relu"]] * 2)
    assert close(nslm.risk(net, theta, data, loss), np.sum((g - y) ** 4))
    assert close(nslm.losses(net, theta, data, loss), np.sum((g - y) ** 4, axis=1))
    # value only: fine for the risk, an error when a gradient is needed
    loss2 = nslm.Loss.callback(lambda a, y: float(np.sum(np.abs(a - y))))
    assert close(nslm.risk(net, theta, data, loss2), np.sum(np.abs(g - y)))
    e = raises(nslm.CallbackError, nslm.gradient, net, theta, data, loss2)
    assert isinstance(e.__cause__, ValueError)
    bad = nslm.Loss.callback(lambda a, y: 1 / 0)
    e = raises(nslm.CallbackError, nslm.risk, net, theta, data, bad)
    assert isinstance(e.__cause__, ZeroDivisionError)


# ---------------------------------------------------------------- Constraint

def rownorm(w, q):
    a = np.abs(w)
    if q == math.inf:
        return a.max()
    return float(np.max(np.sum(a ** q, axis=1) ** (1 / q)))


def test_constraint_against_formula():
    layers, _, _ = random_problem()
    theta = nslm.Params.from_layers(layers)
    for ar, br, q in [(1.0, 2.0, 0.5), (0.3, 1.0, 2.0), (1.0, 1.0, math.inf), (2.0, 0.0, 1.0)]:
        con = nslm.Constraint(ar, br, q)
        assert con.params == (ar, br, q)
        want = max(ar * max(rownorm(w, 1) for w in layers[1:]), br * rownorm(layers[0], q))
        assert close(con(theta), want), (ar, br, q)
        assert con.feasible(theta) == (want <= 1)
        assert close(con.row_norms(theta, 0),
                     [rownorm(layers[0][i:i + 1], q) for i in range(7)])
        assert close(con.row_norms(theta, 2), np.sum(np.abs(layers[2]), axis=1))
    assert nslm.Constraint()(theta) == 0 and nslm.Constraint().feasible(theta)
    assert "q=" in repr(con)


def test_constraint_errors():
    raises(nslm.InvalidArgumentError, nslm.Constraint, -1.0, 1.0, 1.0)
    raises(nslm.NslmError, nslm.Constraint, 1.0, 1.0, 0.0)
    raises(nslm.NslmError, nslm.Constraint, 1.0, 1.0, float("nan"))
    con = nslm.Constraint(1, 1, 1)
    theta = nslm.Params(nslm.Net([2, 3, 1]))
    raises(nslm.RangeError, con.row_norms, theta, 5)


def test_matrix_row_norm():
    a = RNG.normal(size=(6, 5))
    for q in (0.25, 1.0, 3.0, math.inf):
        assert close(nslm.matrix_row_norm(a, q), rownorm(a, q))
    # overflow-safe: entries near 1e300
    big = np.full((2, 4), 1e300)
    assert close(nslm.matrix_row_norm(big, 2.0), 2e300, 1e-14)
    raises(nslm.NslmError, nslm.matrix_row_norm, a, -1.0)


# ---------------------------------------------------------------- evaluation

def test_outputs_features_losses_risk_objective():
    layers, x, y = random_problem()
    theta, data = nslm.Params.from_layers(layers), nslm.Data(x, y)
    net = nslm.Net([3, 7, 5, 2], activations="tanh")
    g = forward(layers, x, [np.tanh] * 2)
    assert close(nslm.outputs(net, theta, data), g)
    out = np.zeros((2, 9)).T  # Fortran-ordered view, written in place
    res = nslm.outputs(net, theta, data, out=out)
    assert res is out and close(out, g)
    feats = [x, np.tanh(x @ layers[0].T)]
    feats.append(np.tanh(feats[1] @ layers[1].T))
    feats.append(g)
    for j, want in enumerate(feats):
        assert close(nslm.features(net, theta, data, j), want), j
    raises(nslm.RangeError, nslm.features, net, theta, data, 4)
    loss = nslm.Loss("squared")
    assert close(nslm.losses(net, theta, data, loss), np.sum((g - y) ** 2, axis=1))
    risk = nslm.risk(net, theta, data, loss)
    assert close(risk, np.sum((g - y) ** 2))
    con = nslm.Constraint(1.0, 1.0, 2.0)
    assert close(nslm.objective(net, theta, data, loss, con, 0.25), risk + 0.25 * con(theta))
    raises(nslm.NslmError, nslm.objective, net, theta, data, loss, con, -1.0)


def test_gradient_against_finite_differences():
    layers, x, y = random_problem(widths=(3, 4, 3, 2), n=6)
    theta, data = nslm.Params.from_layers(layers), nslm.Data(x, y)
    net = nslm.Net([3, 4, 3, 2], activations="tanh")
    loss = nslm.Loss("squared")
    grad, risk = nslm.gradient(net, theta, data, loss)
    assert close(risk, np.sum((forward(layers, x, [np.tanh] * 2) - y) ** 2))

    def L(ls):
        return np.sum((forward(ls, x, [np.tanh] * 2) - y) ** 2)
    # central differences, h = 1e-6: truncation ~h^2 * |L'''| ~ 1e-11,
    # rounding ~1e-16 * L / h ~ 1e-9; compare to 1e-6 absolute.
    h = 1e-6
    for j in range(3):
        g = grad[j]
        for (r, c) in [(0, 0), (g.shape[0] - 1, g.shape[1] - 1)]:
            up = [w.copy() for w in layers]
            dn = [w.copy() for w in layers]
            up[j][r, c] += h
            dn[j][r, c] -= h
            assert abs(g[r, c] - (L(up) - L(dn)) / (2 * h)) <= 1e-6, (j, r, c)


def test_evaluation_shape_errors():
    layers, x, y = random_problem()
    theta = nslm.Params.from_layers(layers)
    net = nslm.Net([3, 7, 5, 2])
    other = nslm.Data(RNG.normal(size=(9, 4)), y)
    e = raises(nslm.DimensionError, nslm.risk, net, theta, other, nslm.Loss())
    assert e.detail and nslm.last_error() == e.detail
    wrong_net = nslm.Net([3, 6, 5, 2])
    raises(nslm.DimensionError, nslm.outputs, wrong_net, theta, nslm.Data(x, y))
    theta.close()
    raises(ValueError, nslm.outputs, net, theta, other)


# ---------------------------------------------------------------- files

def test_npy_files():
    a = RNG.normal(size=(5, 3))
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "a.npy")
        nslm.write_npy(f, a[:, ::-1])
        assert np.array_equal(np.load(f), a[:, ::-1])
        assert np.array_equal(nslm.read_npy(f), a[:, ::-1])
        g = os.path.join(d, "f32.npy")
        np.save(g, np.asfortranarray(a.astype(np.float32)))
        assert np.array_equal(nslm.read_npy(g), a.astype(np.float32).astype(np.float64))
        v = os.path.join(d, "v.npy")
        np.save(v, a[:, 0])
        assert nslm.read_npy(v).shape == (5, 1)
        bad = os.path.join(d, "bad.npy")
        with open(bad, "wb") as fh:
            fh.write(b"\x93NUMPY\x01\x00garbage")
        raises(nslm.FileFormatError, nslm.read_npy, bad)
        np.save(bad, np.zeros((2, 2), dtype=np.int32))
        raises(nslm.FileFormatError, nslm.read_npy, bad)
        raises(nslm.NslmIOError, nslm.read_npy, os.path.join(d, "none.npy"))


def test_library_info():
    assert os.path.exists(nslm.library_path())
    assert nslm.library_version() == nslm.__version__
    assert nslm.strerror(nslm.Status.TOO_NARROW)
    e = nslm.NslmError(-9, "m", "d", "f")
    assert e.status is nslm.Status.TOO_NARROW and "d" in str(e) and "TOO_NARROW" in str(e)
    assert nslm.NslmError(-99).status == -99


if __name__ == "__main__":
    run(globals())
