#!/usr/bin/python3
"""numpy peer of bench_forward: the risk (forward pass + squared loss) of a
ReLU network, idiomatic numpy on the samples-as-rows layout:

    A = X; A = A @ W.T; np.maximum(A, 0, out=A); ...; O = A @ W_l.T
    risk = ||O - Y||^2

The data come from the same integer hash as bench_forward.c (exact in
double), so the risk must agree with libnslm's to rounding.  The thread
count is the caller's: it sets BLIS_NUM_THREADS / OMP_NUM_THREADS.

Usage: bench_forward_numpy.py --widths=d,p1,...,m --n=N [--reps=K]
  prints the median wall time of K evaluations (numpy_median_s), the risk,
  the process CPU time over wall time (how many cores numpy's BLAS kept
  busy) and the BLAS library numpy has loaded.
Usage: bench_forward_numpy.py --widths=... --n=N --serve
  the same data, then a loop on stdin so that bench_forward can interleave
  its own repetitions with numpy's: "time K" answers "times t_1 ... t_K"
  (seconds per evaluation); "quit" answers the summary lines and exits.
"""
import os
import sys
import time

try:
    import numpy as np
except ImportError:
    print("numpy_missing", flush=True)
    sys.exit(3)


def hash_uniform(count, stream):
    idx = np.arange(count, dtype=np.uint64)
    h = (idx + np.uint64(stream * 0x9E3779B1)) * np.uint64(2654435761)
    return (h & np.uint64(0xFFFFFFFF)).astype(np.float64) / 4294967296.0 - 0.5


def risk(x, ws, y):
    a = x
    for w in ws[:-1]:
        a = a @ w.T
        np.maximum(a, 0.0, out=a)
    o = a @ ws[-1].T
    o -= y
    return float(np.vdot(o, o))


def loaded_blas():
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                if "blas" in line or "blis" in line:
                    return os.path.realpath(line.split()[-1])
    except OSError:
        pass
    return "unknown"


def main(argv):
    opts = dict(a[2:].split("=", 1) if "=" in a else (a[2:], "") for a in argv[1:]
                if a.startswith("--"))
    widths = [int(v) for v in opts["widths"].split(",")]
    n = int(opts["n"])
    d, m = widths[0], widths[-1]
    ws = []
    for j in range(len(widths) - 1):
        rows, cols = widths[j + 1], widths[j]
        sc = np.sqrt(24.0 / cols)
        ws.append(sc * hash_uniform(rows * cols, j + 1).reshape(rows, cols))
    x = hash_uniform(n * d, 0).reshape(n, d)
    y = hash_uniform(n * m, 99).reshape(n, m)

    r = risk(x, ws, y)  # warm-up
    cpu = wall = 0.0
    all_times = []

    def timed(k):
        nonlocal r, cpu, wall
        out = []
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(k):
            t0 = time.perf_counter()
            r = risk(x, ws, y)
            out.append(time.perf_counter() - t0)
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        all_times.extend(out)
        return out

    if "serve" in opts:
        print("ready", flush=True)
        for line in sys.stdin:
            cmd = line.split()
            if cmd and cmd[0] == "time":
                print("times " + " ".join("%.9g" % t for t in timed(int(cmd[1]))), flush=True)
            elif cmd and cmd[0] == "quit":
                break
    else:
        timed(int(opts.get("reps", "5")))
    s = sorted(all_times)
    k = len(s)
    med = (s[k // 2] if k % 2 else 0.5 * (s[k // 2 - 1] + s[k // 2])) if k else float("nan")
    print("numpy_median_s = %.9g" % med)
    print("numpy_risk = %.17g" % r)
    print("numpy_cpu_over_wall = %.3f" % (cpu / max(wall, 1e-12)))
    print("numpy_blas = %s (numpy %s)" % (loaded_blas(), np.__version__), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
