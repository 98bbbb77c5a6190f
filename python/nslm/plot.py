"""Plots of path profiles and planes with matplotlib (optional).

Without matplotlib, the functions raise ImportError explaining how to get
it; the library's own SVG writers (write_profile_svg, write_plane_svg)
need nothing.
"""

import numpy as np

_HINT = ("nslm.plot needs matplotlib: on Debian 'apt-get install python3-matplotlib', "
         "elsewhere 'pip install matplotlib'.  Without it, nslm.write_profile_svg() and "
         "nslm.write_plane_svg() write SVG plots.")


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(_HINT) from e
    return plt


def have_matplotlib():
    """True if matplotlib can be imported."""
    try:
        _pyplot()
    except ImportError:
        return False
    return True


_KIND_COLORS = {0: "#d62728", 1: "#7f7f7f", 2: "#1f77b4"}  # general, constant, convex


def plot_profile(profile, path=None, ax=None, title=None, show_r=True):
    """Draws profile.risk against profile.t (a Profile from Path.eval() or
    line()); with path, shades each segment by its kind (grey constant,
    blue convex, red general) and marks the boundaries; profile.r, when
    present and show_r, goes on a second axis.  Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    if path is not None and path.num_segments:
        S = path.num_segments
        for s, kind in enumerate(path.kinds):
            ax.axvspan(s / S, (s + 1) / S, color=_KIND_COLORS[int(kind)], alpha=0.08, lw=0)
            if s:
                ax.axvline(s / S, color="#999999", lw=0.5)
        from matplotlib.patches import Patch
        handles = [Patch(color=_KIND_COLORS[k], alpha=0.3, label=n)
                   for k, n in ((1, "constant"), (2, "convex"), (0, "general"))
                   if k in [int(x) for x in path.kinds]]
    else:
        handles = []
    (line,) = ax.plot(profile.t, profile.risk, color="black", lw=1.5, label="risk")
    ax.set_xlabel("t")
    ax.set_ylabel("risk L")
    ax.set_xlim(float(np.min(profile.t)), float(np.max(profile.t)))
    if show_r and profile.r is not None:
        ax2 = ax.twinx()
        (rl,) = ax2.plot(profile.t, profile.r, color="#2ca02c", lw=1, ls="--", label="r")
        ax2.set_ylabel("r")
        handles.append(rl)
    ax.legend(handles=[line] + handles, loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_plane(plane, values=None, ax=None, marks=(), labels=None, title=None, levels=20,
               log=False):
    """A filled contour plot of plane.risk (or values on the same grid) over
    (alpha, beta), with contour lines and marks (alpha, beta) labelled by
    labels.  log=True plots log10 of the values.  Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    z = np.asarray(plane.risk if values is None else values, dtype=float)
    if log:
        z = np.log10(np.maximum(z, np.finfo(float).tiny))
    A, B = np.meshgrid(plane.alpha, plane.beta, indexing="ij")
    cs = ax.contourf(A, B, z, levels=levels, cmap="viridis")
    ax.contour(A, B, z, levels=levels, colors="white", linewidths=0.4, alpha=0.6)
    plt.colorbar(cs, ax=ax, label="log10 risk" if log else "risk")
    for i, (a, b) in enumerate(np.asarray(marks, dtype=float).reshape(-1, 2)):
        ax.plot(a, b, "o", color="#d62728", ms=6)
        if labels is not None and i < len(labels):
            ax.annotate(labels[i], (a, b), textcoords="offset points", xytext=(5, 5),
                        color="white")
    ax.set_xlabel("alpha")
    ax.set_ylabel("beta")
    if title:
        ax.set_title(title)
    return ax
