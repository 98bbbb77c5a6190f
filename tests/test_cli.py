"""The nslm command: every subcommand on small files, outputs checked
against numpy computations written here, bad inputs (one clear line,
nonzero exit, nothing written), exit codes, Ctrl-C."""

import os
import signal
import subprocess
import tempfile
import time
import xml.dom.minidom

import pyharness
from pyharness import run

import numpy as np

NSLM = os.path.join(pyharness.TOP_BUILDDIR, "tools", "nslm")
TMP = tempfile.mkdtemp(prefix="nslm-cli-")
R = np.random.default_rng(6)
N, D, M, WIDTHS = 10, 3, 2, (3, 100, 60, 2)


def f(name):
    return os.path.join(TMP, name)


def nslm(*args, expect=0):
    """Runs nslm; returns (stdout, stderr); checks the exit status."""
    p = subprocess.run([NSLM] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=120, cwd=TMP)
    assert p.returncode == expect, "nslm %s: exit %d, expected %d\nstdout: %s\nstderr: %s" % (
        " ".join(map(str, args)), p.returncode, expect, p.stdout[-2000:], p.stderr[-2000:])
    return p.stdout, p.stderr


def values(out):
    """'key value...' lines as {key: [tokens]} (first occurrence wins)."""
    d = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] not in d:
            d[parts[0]] = parts[1:]
    return d


def relu(x):
    return np.maximum(x, 0)


def forward(layers, x, act=relu):
    h = x
    for w in layers[:-1]:
        h = act(h @ w.T)
    return h @ layers[-1].T


def rownorm(w, q):
    return float(np.max(np.sum(np.abs(w) ** q, axis=1) ** (1 / q)))


def close(a, b, rtol=1e-12):
    return abs(a - b) <= rtol * max(1.0, abs(b))


# ---------------------------------------------------------------- fixtures

X = R.normal(size=(N, D))
Y = R.normal(size=(N, M))
THETA = [R.normal(size=(WIDTHS[j + 1], WIDTHS[j])) / np.sqrt(WIDTHS[j]) for j in range(3)]
GAMMA = [R.normal(size=(WIDTHS[j + 1], WIDTHS[j])) / np.sqrt(WIDTHS[j]) for j in range(3)]
np.save(f("X.npy"), X)
np.save(f("Y.npy"), Y)
np.savetxt(f("X.csv"), X, delimiter=",", header="x1,x2,x3", comments="")
np.savetxt(f("Y.csv"), Y, delimiter=",")
np.savez(f("theta.npz"), **{"layer_%d" % j: w for j, w in enumerate(THETA)})
np.savez(f("gamma.npz"), **{"layer_%d" % j: w for j, w in enumerate(GAMMA)})
for j, w in enumerate(THETA):
    np.save(f("t%d.npy" % j), w)
COMMON = ["-x", "X.npy", "-y", "Y.npy", "-p", "theta.npz"]
RISK_THETA = float(np.sum((forward(THETA, X) - Y) ** 2))
RISK_GAMMA = float(np.sum((forward(GAMMA, X) - Y) ** 2))


# ---------------------------------------------------------------- general

def test_usage_and_help():
    out, _ = nslm("--help")
    assert "Usage: nslm COMMAND" in out and "Exit status" in out
    _, err = nslm(expect=2)
    assert "Usage" in err
    _, err = nslm("frobnicate", expect=2)
    assert err.count("\n") == 1 and "unknown command 'frobnicate'" in err
    out, _ = nslm("--version")
    assert out.startswith("nslm ")
    for cmd in ("demo", "info", "eval", "compress", "connect", "descent", "certify", "profile",
                "line", "plane"):
        out, err = nslm(cmd, "--help")
        assert out.startswith("Usage: nslm %s" % cmd) and not err, cmd
        _, err = nslm(cmd, "--no-such-flag", expect=2)
        assert err.count("\n") == 1 and "'--no-such-flag'" in err, (cmd, err)


# ---------------------------------------------------------------- eval

def test_eval_against_numpy():
    out, err = nslm("eval", *COMMON)
    v = values(out)
    assert close(float(v["risk"][0]), RISK_THETA) and not err
    assert close(float(v["mean_risk"][0]), RISK_THETA / N)
    assert v["r"] == ["unconstrained"] and v["samples"] == [str(N)]
    # CSV data (with a header line) and per-layer .npy files give the same
    out, _ = nslm("eval", "-x", "X.csv", "-y", "Y.csv", "-p", "t0.npy,t1.npy,t2.npy")
    assert close(float(values(out)["risk"][0]), RISK_THETA)


def test_eval_constraint_activations_loss_files():
    out, _ = nslm("eval", *COMMON, "-c", "0.5,2,0.5", "--lambda", "0.25", "--act", "tanh,relu",
                  "--loss", "huber:0.5", "--outputs", "g.npy", "--losses", "l.csv")
    v = values(out)
    h = np.tanh(X @ THETA[0].T)
    h = relu(h @ THETA[1].T)
    g = h @ THETA[2].T
    r = g - Y
    a = np.abs(r)
    per = np.sum(np.where(a <= 0.5, 0.5 * r * r, 0.5 * (a - 0.25)), axis=1)
    want_r = max(0.5 * max(rownorm(w, 1) for w in THETA[1:]), 2 * rownorm(THETA[0], 0.5))
    assert close(float(v["risk"][0]), per.sum())
    assert close(float(v["r"][0]), want_r)
    assert v["feasible"] == ["yes" if want_r <= 1 else "no"]
    assert close(float(v["objective"][0]), per.sum() + 0.25 * want_r)
    assert np.allclose(np.load(f("g.npy")), g, rtol=1e-12, atol=1e-12)
    assert np.allclose(np.loadtxt(f("l.csv"), delimiter=","), per, rtol=1e-12, atol=1e-12)


def expect_input_error(args, words, code=3, outputs=()):
    """A bad input: the exit code, one line on stderr naming the problem,
    nothing on stdout, no output file written."""
    for o in outputs:
        if os.path.exists(f(o)):
            os.remove(f(o))
    out, err = nslm(*args, expect=code)
    assert err.count("\n") == 1, err
    for w in words:
        assert w in err, (w, err)
    assert out == "", out
    for o in outputs:
        assert not os.path.exists(f(o)), o
    assert not [n for n in os.listdir(TMP) if ".tmp" in n], os.listdir(TMP)
    return err


def test_bad_inputs():
    np.save(f("X4.npy"), R.normal(size=(N, 4)))
    np.save(f("Y5.npy"), R.normal(size=(N - 1, 2)))
    with open(f("junk.npz"), "wb") as fh:
        fh.write(b"this is not a zip archive at all")
    with open(f("bad.csv"), "w") as fh:
        fh.write("1,2,3\n4,five,6\n")
    with open(f("nan.csv"), "w") as fh:
        fh.write("1,2,3\n4,nan,6\n")
    with open(f("ragged.csv"), "w") as fh:
        fh.write("1,2,3\n4,5\n")
    outs = ("o.npy",)
    base = ["eval", "--outputs", "o.npy"]
    expect_input_error(base + ["-x", "X4.npy", "-y", "Y.npy", "-p", "theta.npz"],
                       ["X4.npy", "4 columns", "3"], outputs=outs)
    expect_input_error(base + ["-x", "X.npy", "-y", "Y5.npy", "-p", "theta.npz"],
                       ["Y5.npy", "rows"], outputs=outs)
    expect_input_error(base + ["-x", "X.npy", "-y", "Y.npy", "-p", "missing.npz"],
                       ["missing.npz"], outputs=outs)
    expect_input_error(base + ["-x", "X.npy", "-y", "Y.npy", "-p", "junk.npz"], ["junk.npz"],
                       outputs=outs)
    expect_input_error(base + ["-x", "bad.csv", "-y", "Y.npy", "-p", "theta.npz"],
                       ["bad.csv", "line 2", "five"], outputs=outs)
    expect_input_error(base + ["-x", "nan.csv", "-y", "Y.npy", "-p", "theta.npz"],
                       ["nan.csv", "not finite"], outputs=outs)
    expect_input_error(base + ["-x", "ragged.csv", "-y", "Y.npy", "-p", "theta.npz"],
                       ["ragged.csv", "line 2"], outputs=outs)
    expect_input_error(base + ["-x", "X.npy", "-y", "Y.npy", "-p", "t0.npy,t2.npy"],
                       ["t2.npy", "chain"], outputs=outs)
    # usage errors: exit 2, one line
    expect_input_error(base + COMMON + ["--act", "relu,relu,relu"], ["3 activations", "2 hidden"],
                       code=2, outputs=outs)
    expect_input_error(base + COMMON + ["--act", "swish"], ["swish"], code=2, outputs=outs)
    expect_input_error(base + COMMON + ["--loss", "cosine"], ["cosine"], code=2, outputs=outs)
    expect_input_error(base + COMMON + ["-c", "1,2"], ["--constraint"], code=2, outputs=outs)
    expect_input_error(base + COMMON + ["-c", "1,1,-2"], ["--constraint"], code=2, outputs=outs)
    expect_input_error(base + COMMON + ["--lambda", "-1"], ["--lambda"], code=2, outputs=outs)
    expect_input_error(["eval", "-x", "X.npy", "-p", "theta.npz"], ["-y"], code=2)
    expect_input_error(["eval", *COMMON, "extra"], ["extra"], code=2)
    expect_input_error(["eval", *COMMON, "--threads", "many"], ["--threads"], code=2)
    expect_input_error(["eval", *COMMON, "--lambda"], ["--lambda", "value"], code=2)


def test_existing_output_survives_failure():
    with open(f("keep.npy"), "wb") as fh:
        fh.write(b"precious")
    nslm("eval", "-x", "X4.npy", "-y", "Y.npy", "-p", "theta.npz", "--outputs", "keep.npy",
         expect=3)
    with open(f("keep.npy"), "rb") as fh:
        assert fh.read() == b"precious"
    nslm("eval", *COMMON, "--outputs", os.path.join("nodir", "o.npy"), expect=4)


# ---------------------------------------------------------------- info, compress

def test_info():
    out, _ = nslm("info", "-p", "theta.npz", "--n", "4")
    v = values(out)
    assert v["widths"] == [str(w) for w in WIDTHS] and v["depth"] == ["2"]
    assert v["paper_bound"] == [str(2 * M * 5 ** 2)] and v["paper_bound_met"] == ["no"]
    assert v["active"] == [str(w) for w in WIDTHS[1:3]] and v["activations"] == ["relu", "relu"]
    out, _ = nslm("info", *COMMON, "-g", "gamma.npz")
    v = values(out)
    assert v["paper_bound"] == [str(2 * M * (N + 1) ** 2)]
    needed = [int(x) for x in v["needed"]]
    assert v["fits"] == (["yes"] if needed[0] <= WIDTHS[1] and needed[1] <= WIDTHS[2] else ["no"])
    assert all(int(c) <= a for c, a in zip(v["compressed"], WIDTHS[1:3]))
    expect_input_error(["info", "-p", "theta.npz", "-g", "gamma.npz"], ["-g"], code=2)


def test_compress_keeps_outputs():
    out, _ = nslm("compress", *COMMON, "-o", "c.npz")
    v = values(out)
    with np.load(f("c.npz")) as z:
        layers = [z["layer_%d" % j] for j in range(3)]
    g0, g1 = forward(THETA, X), forward(layers, X)
    # exact pruning: outputs agree to rounding (Caratheodory residual
    # ~1e-15 relative; 1e-10 leaves room for the conditioning of A_j)
    assert np.max(np.abs(g1 - g0)) <= 1e-10 * np.max(np.abs(g0))
    active = [int(np.sum(np.any(layers[j - 1] != 0, axis=1) | np.any(layers[j] != 0, axis=0)))
              for j in (1, 2)]
    assert [int(a) for a in v["active_after"]] == active
    assert all(a <= b for a, b in zip(active, WIDTHS[1:3]))
    assert close(float(v["risk_after"][0]), RISK_THETA, 1e-9)
    expect_input_error(["compress", *COMMON], ["-o"], code=2)
    expect_input_error(["compress", *COMMON, "-o", "c2.npz", "--mode", "sideways"], ["sideways"],
                       code=2, outputs=("c2.npz",))


# ---------------------------------------------------------------- paths

def test_connect_descent_certify_profile():
    for f_ in ("path.npz", "desc.npz"):
        if os.path.exists(f(f_)):
            os.remove(f(f_))
    # ROW mode needs more width than this net has: exit 1, layers named
    _, err = nslm("connect", *COMMON, "-g", "gamma.npz", "-o", "path.npz", expect=1)
    assert "hidden layer 1 needs" in err and not os.path.exists(f("path.npz"))
    out, _ = nslm("connect", *COMMON, "-g", "gamma.npz", "-o", "path.npz", "--mode", "joint")
    segs = [l.split() for l in out.splitlines() if l.startswith("segment ")]
    assert segs and [s[2] for s in segs].count("convex") == 1
    assert close(float(segs[0][segs[0].index("risk") + 1]), RISK_THETA, 1e-9)
    assert close(float(segs[-1][segs[-1].index("->") + 1]), RISK_GAMMA, 1e-9)
    with np.load(f("path.npz")) as z:
        assert "header" in z.files
    out, _ = nslm("descent", *COMMON, "-g", "gamma.npz", "-o", "desc.npz", "--mode", "joint")
    v = values(out)
    assert 0.0 <= float(v["cut"][0]) <= 1.0
    # the risk at the knots never increases
    prev = np.inf
    for l in out.splitlines():
        if l.startswith("segment "):
            t = l.split()
            a, b = float(t[t.index("risk") + 1]), float(t[t.index("->") + 1])
            assert b <= a * (1 + 1e-9) + 1e-12 and a <= prev * (1 + 1e-9) + 1e-12
            prev = b
    assert prev <= min(RISK_THETA, RISK_GAMMA) * (1 + 1e-9)
    out, _ = nslm("certify", "desc.npz", *COMMON, "-q")
    assert values(out)["verdict"] == ["PASS"] and "ALGEBRAIC" in out and "SAMPLED" in out
    # a path with the wrong network
    np.savez(f("small.npz"), layer_0=np.ones((5, 3)), layer_1=np.ones((2, 5)))
    expect_input_error(["certify", "desc.npz", "-x", "X.npy", "-y", "Y.npy", "-p", "small.npz"],
                       ["desc.npz", "widths"])
    expect_input_error(["certify", "junk.npz", *COMMON], ["junk.npz"])
    expect_input_error(["certify", *COMMON], ["path"], code=2)
    # profile: CSV and SVG
    out, _ = nslm("profile", "desc.npz", *COMMON, "--points", "5", "--csv", "prof.csv", "--svg",
                  "prof.svg")
    v = values(out)
    assert close(float(v["risk_start"][0]), RISK_THETA, 1e-9)
    rows = np.genfromtxt(f("prof.csv"), delimiter=",", names=True, dtype=None, encoding=None)
    assert rows["t"][0] == 0.0 and rows["t"][-1] == 1.0
    assert close(float(rows["risk"][0]), RISK_THETA, 1e-9)
    assert len(rows) == int(v["points"][0])
    xml.dom.minidom.parse(f("prof.svg"))


def test_line_against_numpy():
    out, _ = nslm("line", *COMMON, "-g", "gamma.npz", "--points", "11", "--csv", "line.csv",
                  "--svg", "line.svg", "-c", "1,1,2")
    v = values(out)
    data = np.genfromtxt(f("line.csv"), delimiter=",", names=True)
    t, risk = data["t"], data["risk"]
    assert t[0] == 0 and t[-1] == 1 and np.allclose(t, np.linspace(0, 1, 11), rtol=0, atol=1e-15)
    for i in (0, 4, 10):
        layers = [(1 - t[i]) * a + t[i] * b for a, b in zip(THETA, GAMMA)]
        assert close(risk[i], float(np.sum((forward(layers, X) - Y) ** 2)), 1e-11)
    chord = (1 - t) * risk[0] + t * risk[-1]
    assert close(float(v["barrier"][0]), float(np.max(risk - chord)), 1e-12)
    assert "r" in data.dtype.names
    xml.dom.minidom.parse(f("line.svg"))


def test_plane():
    out, _ = nslm("plane", *COMMON, "--grid", "5", "--csv", "plane.csv", "--svg", "plane.svg")
    data = np.genfromtxt(f("plane.csv"), delimiter=",", names=True)
    assert len(data) == 25
    at0 = (data["alpha"] == 0) & (data["beta"] == 0)
    assert at0.sum() == 1 and close(float(data["risk"][at0][0]), RISK_THETA, 1e-11)
    xml.dom.minidom.parse(f("plane.svg"))
    np.savez(f("c3.npz"), **{"layer_%d" % j: 0.5 * w for j, w in enumerate(GAMMA)})
    out, _ = nslm("plane", *COMMON, "-g", "gamma.npz", "--third", "c3.npz", "--grid", "5",
                  "--alpha", "0:1", "--beta", "0:1", "--csv", "plane3.csv")
    data = np.genfromtxt(f("plane3.csv"), delimiter=",", names=True)
    at_b = (data["alpha"] == 1) & (data["beta"] == 0)
    assert close(float(data["risk"][at_b][0]), RISK_GAMMA, 1e-11)
    expect_input_error(["plane", *COMMON, "--third", "c3.npz"], ["--third"], code=2)
    expect_input_error(["plane", *COMMON, "--alpha", "1:0"], ["--alpha"], code=2)


# ---------------------------------------------------------------- demo, Ctrl-C

def test_demo():
    for variant, name in ((), "nslm-demo.svg"), (("--constrained",), "nslm-demo-constrained.svg"):
        if os.path.exists(f(name)):
            os.remove(f(name))
        start = time.time()
        out, _ = nslm("demo", "-q", *variant)
        elapsed = time.time() - start
        assert "verdict      PASS" in out, out
        assert "certified global minimizer" in out and "the paper's bound" in out
        xml.dom.minidom.parse(f(name))
        print("     nslm demo %s: %.1f s" % (" ".join(variant), elapsed))
    nslm("demo", "-q", "--out", "-", "--n", "6", "--width", "200")


def test_ctrl_c_cancels_cleanly():
    if os.path.exists(f("big.csv")):
        os.remove(f("big.csv"))
    p = subprocess.Popen([NSLM, "plane", *COMMON, "--grid", "2000", "--csv", "big.csv"],
                         cwd=TMP, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert p.poll() is None, "the plane finished before Ctrl-C; make it larger"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, (p.returncode, err)
    assert "interrupted" in err.splitlines()[-1] and out == ""
    assert not os.path.exists(f("big.csv"))
    assert not [n for n in os.listdir(TMP) if ".tmp" in n]


if __name__ == "__main__":
    run(globals())
