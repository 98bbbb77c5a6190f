"""Evaluation of a network on data: outputs, losses, risk, features, gradient."""

import ctypes

import numpy as np

from . import _arrays
from ._lib import lib
from .params import Params


def outputs(net, theta, data, out=None):
    """g_theta(X): an n x m array (written into out if given)."""
    arr, rs, cs = _arrays.matrix_out(data.n, net.widths[-1], out, "out")
    lib.nslm_eval_outputs(net._ptr, theta._ptr, data._ptr, _arrays.address(arr), rs, cs)
    return arr


def losses(net, theta, data, loss):
    """Per-sample losses l(g(x_i), y_i): an array of length n."""
    n = data.n
    out = np.empty(n)
    lib.nslm_eval_losses(net._ptr, theta._ptr, data._ptr, loss._ptr, _arrays.address(out), n)
    return out


def risk(net, theta, data, loss):
    """The empirical risk L(theta) = sum_i l(g(x_i), y_i)."""
    r = ctypes.c_double()
    lib.nslm_eval_risk(net._ptr, theta._ptr, data._ptr, loss._ptr, ctypes.byref(r))
    return r.value


def objective(net, theta, data, loss, constraint, lam):
    """The penalized objective L(theta) + lam * r(theta), lam >= 0."""
    v = ctypes.c_double()
    lib.nslm_eval_objective(net._ptr, theta._ptr, data._ptr, loss._ptr, constraint._ptr,
                            float(lam), ctypes.byref(v))
    return v.value


def features(net, theta, data, j, out=None):
    """Hidden features A_j as an n x p_j array: j = 0 gives X, j = l + 1
    the outputs.  Pass out=np.empty((p_j, n)).T to get the p_j x n layout
    of the paper without a copy."""
    widths = net.widths
    # An index out of range gets a placeholder buffer: the library reports it.
    p = widths[j] if 0 <= j < len(widths) else 1
    arr, rs, cs = _arrays.matrix_out(data.n, p, out, "out")
    lib.nslm_eval_features(net._ptr, theta._ptr, data._ptr, int(j), _arrays.address(arr), rs, cs)
    return arr


def gradient(net, theta, data, loss):
    """(grad, risk): the gradient of L with respect to every layer, as a
    Params of the same widths, and L(theta)."""
    grad = Params(net)
    r = ctypes.c_double()
    lib.nslm_eval_gradient(net._ptr, theta._ptr, data._ptr, loss._ptr, grad._ptr, ctypes.byref(r))
    return grad, r.value
