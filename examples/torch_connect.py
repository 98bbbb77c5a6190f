#!/usr/bin/env python3
"""torch_connect.py - connect two trained PyTorch networks without a barrier.

Trains two bias-free MLPs with PyTorch from different seeds, passes their
``weight`` arrays straight to nslm (the layout of nn.Linear(p_j, p_{j+1},
bias=False).weight is libnslm's), builds the descent path from the worse to
the better one, certifies it, and cross-checks points of the path with
PyTorch's own forward pass.  For contrast it measures the barrier on the
straight line between the two networks.

Run:  python3 examples/torch_connect.py   (needs python3-torch, numpy, nslm)
Exit status: 0 if every check passed, 1 if one failed, 77 if PyTorch is
missing (Debian: apt-get install python3-torch).
"""

import sys

try:
    import torch
    from torch import nn
except ImportError:
    print("torch_connect.py: skipped, PyTorch is not installed "
          "(Debian: apt-get install python3-torch)")
    sys.exit(77)

import numpy as np

import nslm

torch.set_default_dtype(torch.float64)
N, D, M, WIDTH = 24, 4, 1, 256


def data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, D, generator=g)
    w = torch.randn(D, M, generator=g)
    return x, torch.sin(2 * x @ w)


def mlp(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(D, WIDTH, bias=False), nn.ReLU(),
                         nn.Linear(WIDTH, WIDTH, bias=False), nn.ReLU(),
                         nn.Linear(WIDTH, M, bias=False))


def train(model, x, y, steps):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).sum()  # nslm's squared loss: a sum over samples
        loss.backward()
        opt.step()
    return model


def weights(model):
    """The weight arrays of the Linear layers, as numpy (no copy)."""
    return [layer.weight.detach().numpy() for layer in model if isinstance(layer, nn.Linear)]


def torch_risk(model, layers, x, y):
    """PyTorch's forward pass with the given layer weights."""
    with torch.no_grad():
        for layer, w in zip([l for l in model if isinstance(l, nn.Linear)], layers):
            layer.weight.copy_(torch.from_numpy(w))
        return float(((model(x) - y) ** 2).sum())


def main():
    x, y = data()
    a = train(mlp(1), x, y, steps=50)    # a poorly trained network
    b = train(mlp(2), x, y, steps=600)   # a well trained one
    theta = nslm.Params.from_layers(weights(a))
    gamma = nslm.Params.from_layers(weights(b))
    net = nslm.Net.for_params(theta, activations="relu")
    ds = nslm.Data(x.numpy(), y.numpy())
    loss = nslm.Loss("squared")
    ok = True

    la, lb = nslm.risk(net, theta, ds, loss), nslm.risk(net, gamma, ds, loss)
    ta, tb = torch_risk(mlp(0), weights(a), x, y), torch_risk(mlp(0), weights(b), x, y)
    print("risk of the two trained networks: nslm %.6g, %.6g; PyTorch %.6g, %.6g"
          % (la, lb, ta, tb))
    ok &= abs(la - ta) <= 1e-10 * max(1, ta) and abs(lb - tb) <= 1e-10 * max(1, tb)

    # Unconstrained: JOINT compression needs at most rank(A_j) <= n units per
    # network and layer, so width 2n suffices (ROW mode may need more).
    needed, fits = nslm.connect_widths(net, theta, gamma, ds, mode="joint")
    print("widths: available %d per hidden layer, needed %s, the paper's bound %d"
          % (WIDTH, needed, net.paper_width_bound(N)))
    path, cut = nslm.descent(net, theta, gamma, ds, loss, mode="joint")
    print("descent path: %d segments, cut at c = %.4f of the convex segment"
          % (path.num_segments, cut))
    for kind in ("algebraic", "sampled"):
        cert = path.certify(ds, loss, kind=kind)
        print("  " + cert.summary)
        ok &= cert.passed

    # Cross-check points of the path with PyTorch's forward pass.
    prof = path.eval(ds, loss, t=np.linspace(0, 1, 9))
    model = mlp(0)
    worst = 0.0
    for t, r in zip(prof.t, prof.risk):
        tr = torch_risk(model, path.point(t).layers, x, y)
        worst = max(worst, abs(tr - r) / max(1.0, tr))
    print("path risk at 9 points vs PyTorch: largest relative difference %.2g" % worst)
    ok &= worst <= 1e-10
    ok &= bool(np.all(np.diff(prof.risk) <= 1e-10 * max(1.0, la)))
    print("the risk along the path never increases: %s (%.6g -> %.6g)"
          % ("yes" if ok else "NO", prof.risk[0], prof.risk[-1]))

    line = nslm.line(net, ds, loss, theta, gamma, points=41)
    height, at = nslm.barrier(line.t, line.risk)
    print("for contrast, the straight line from Theta to Gamma: barrier %.4g at t = %.3f"
          % (height, at))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
