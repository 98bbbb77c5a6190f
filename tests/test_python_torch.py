"""Runs examples/torch_connect.py (PyTorch-trained networks, connected and
certified by nslm, cross-checked with PyTorch's forward pass); skips (77)
with a visible message when PyTorch is not installed."""

import os
import subprocess
import sys

import pyharness

EXAMPLE = os.path.join(pyharness.TOP_SRCDIR, "examples", "torch_connect.py")

env = dict(os.environ)
env["PYTHONPATH"] = os.pathsep.join([os.path.join(pyharness.TOP_SRCDIR, "python")] +
                                    ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
p = subprocess.run([sys.executable, EXAMPLE], env=env, timeout=600)
if p.returncode == 77:
    print("SKIP: PyTorch is not installed (Debian: apt-get install python3-torch)")
    sys.exit(77)
print("%d passed, %d failed" % ((1, 0) if p.returncode == 0 else (0, 1)))
sys.exit(0 if p.returncode == 0 else 1)
