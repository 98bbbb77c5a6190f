#!/usr/bin/python3
"""make-path-corpus.py - writes the seed corpus of fuzz_path.c: valid path
files in the format of nslm_path_save(3), written here with numpy alone
(an independent writer of the documented format), plus a few near-misses.

    /usr/bin/python3 make-path-corpus.py OUTDIR
"""
import os
import sys
import zlib

import numpy as np

MAGIC = int.from_bytes(b"NSLMPATH", "little")


def write(path, widths, knots, kinds, claim=0, mutate=None):
    l = len(widths) - 2
    N = len(knots)
    header = np.array([MAGIC, 1, l] + list(widths) + [N, claim], dtype=np.int64)
    arrays = {"header": header}
    data = header.astype("<i8").tobytes()
    if N > 1:
        seg = np.zeros((N - 1, l + 2), dtype=np.int64)
        for s in range(N - 1):
            seg[s, 0] = kinds[s]
            for j in range(l + 1):
                seg[s, 1 + j] = int(not np.array_equal(knots[s][j], knots[s + 1][j]))
        arrays["segments"] = seg
        data += seg.astype("<i8").tobytes()
    for k in range(N):
        for j in range(l + 1):
            if k == 0 or arrays["segments"][k - 1, 1 + j]:
                a = np.ascontiguousarray(knots[k][j], dtype=np.float64)
                arrays["knot_%d_layer_%d" % (k, j)] = a
                data += a.astype("<f8").tobytes()
    arrays["checksum"] = np.array([zlib.crc32(data)], dtype=np.int64)
    if mutate:
        mutate(arrays)
    np.savez(path, **arrays)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)

    def params(widths):
        return [rng.standard_normal((widths[j + 1], widths[j])) for j in range(len(widths) - 1)]

    # One knot.
    w = [3, 4, 2]
    write(os.path.join(out, "one-knot.npz"), w, [params(w)], [])
    # A construction-like path: one layer per segment, then all layers.
    w = [2, 3, 3, 2]
    k0 = params(w)
    knots = [k0]
    for j in (2, 1, 0):
        k = [a.copy() for a in knots[-1]]
        k[j] = rng.standard_normal(k[j].shape)
        knots.append(k)
    knots.append(params(w))
    knots.append([a.copy() for a in knots[-1]])  # no change at all
    write(os.path.join(out, "five-segments.npz"), w, knots, [1, 1, 1, 2, 0], claim=1)
    # Depth 3, compressed members are not needed: numpy writes stored ones.
    w = [1, 2, 1, 2, 1]
    knots = [params(w), params(w)]
    write(os.path.join(out, "depth3.npz"), w, knots, [0])
    # Near-misses (each rejected by one check).
    write(os.path.join(out, "bad-version.npz"), [2, 2, 1], [params([2, 2, 1])], [],
          mutate=lambda a: a["header"].__setitem__(1, 2))
    write(os.path.join(out, "bad-crc.npz"), [2, 2, 1], [params([2, 2, 1])], [],
          mutate=lambda a: a.__setitem__("checksum", a["checksum"] + 1))


if __name__ == "__main__":
    main()
