#!/usr/bin/python3
"""make-corpus.py - regenerates the seed corpora of the fuzz targets:
corpus/npy and corpus/npz, small valid files (numpy's own, every header
version, byte order and memory order, zip64) and broken ones (truncated,
bad magic, hostile sizes and offsets).  Needs numpy (/usr/bin/python3).
Usage: make-corpus.py [DIR]   (default: the corpus/ beside this script)"""
import io, os, struct, sys, zlib
import numpy as np
from numpy.lib import format as F

here = os.path.dirname(os.path.abspath(__file__))
top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, 'corpus')
for t in ('npy', 'npz'):
    os.makedirs(os.path.join(top, t), exist_ok=True)

def M(r, c, seed):
    i, j = np.indices((r, c))
    return ((i * 7 + j * 13 + seed) % 97) * 0.5 - 24.0 + (j % 8) * 0.125

def npy(a, version=None):
    b = io.BytesIO()
    if version: F.write_array(b, a, version=version)
    else: np.save(b, a)
    return b.getvalue()

def raw_npy(header, nbytes, major=1):
    h = header.encode()
    pre = b'\x93NUMPY' + bytes([major, 0]) + (struct.pack('<H', len(h)) if major == 1 else struct.pack('<I', len(h)))
    return pre + h + bytes(range(256)) * (nbytes // 256) + bytes(nbytes % 256)

def put(t, name, data):
    with open(os.path.join(top, t, name), 'wb') as f: f.write(data)

# ---- .npy
good = npy(M(2, 3, 1))
put('npy', 'c_f8.npy', good)
put('npy', 'f_f8.npy', npy(np.asfortranarray(M(3, 2, 2))))
put('npy', 'c_f4.npy', npy(M(2, 2, 3).astype('<f4')))
put('npy', 'f_be_f4.npy', npy(np.asfortranarray(M(2, 3, 4)).astype('>f4')))
put('npy', 'vec.npy', npy(M(5, 1, 5)[:, 0]))
put('npy', 'be_f8.npy', npy(M(1, 3, 6).astype('>f8')))
put('npy', 'v2.npy', npy(M(2, 2, 7), (2, 0)))
put('npy', 'v3.npy', npy(M(1, 2, 8), (3, 0)))
put('npy', 'empty.npy', npy(np.zeros((0, 4))))
put('npy', 'pipe_L.npy', raw_npy("{'descr': '|f8', 'fortran_order': False, 'shape': (2L, 1L), }\n", 16))
put('npy', 'dq_order.npy', raw_npy('{"shape": (1, 2), "fortran_order": True, "descr": "=f4"}', 8))
put('npy', 'bad_trunc.npy', good[:len(good) - 5])
put('npy', 'bad_magic.npy', b'\x93NUMPZ' + good[6:])
put('npy', 'bad_hlen.npy', good[:8] + b'\xff\xff' + good[10:])
put('npy', 'bad_overflow.npy', raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967297)}", 8))
put('npy', 'bad_3d.npy', npy(np.zeros((1, 1, 1))))
put('npy', 'bad_int.npy', npy(np.arange(3)))
put('npy', 'bad_trailing.npy', good + b'xx')
put('npy', 'bad_dupkey.npy', raw_npy("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", 8))
put('npy', 'bad_tuple.npy', raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1)}", 8))

# ---- .npz
def saved(fn, *a, **k):
    b = io.BytesIO(); fn(b, *a, **k); return b.getvalue()

L = [M(3, 2, 9), M(1, 3, 10)]
named = saved(np.savez, layer_0=L[0], layer_1=L[1])
put('npz', 'named.npz', named)
put('npz', 'named_c.npz', saved(np.savez_compressed, layer_1=L[1], layer_0=L[0]))
put('npz', 'pos.npz', saved(np.savez, *L))
put('npz', 'pos_c_f4.npz', saved(np.savez_compressed, np.asfortranarray(L[0]).astype('<f4'), L[1].astype('>f8')))
put('npz', 'mixed.npz', saved(np.savez, f=M(2, 2, 1), i=np.arange(3, dtype=np.int64), j=np.arange(2, dtype=np.int32)))
put('npz', 'empty.npz', saved(np.savez))

def deflate(raw):
    co = zlib.compressobj(9, zlib.DEFLATED, -15); return co.compress(raw) + co.flush()

def mk(members, zip64=False):
    """members: (name, method, data, crc, usize, offset or None)"""
    out = b''; cen = b''
    for name, method, data, crc, usize, off in members:
        name = name.encode()
        if off is None: off = len(out)
        if off == len(out):
            out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 45 if zip64 else 20, 0, method, 0, 0x21, crc,
                               len(data), usize, len(name), 0) + name + data
        if zip64:
            x = struct.pack('<HHQQQ', 1, 24, usize, len(data), off)
            cen += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, method, 0, 0x21, crc, 0xffffffff,
                               0xffffffff, len(name), len(x), 0, 0, 0, 0, 0xffffffff) + name + x
        else:
            cen += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, method, 0, 0x21, crc, len(data),
                               usize, len(name), 0, 0, 0, 0, 0, off) + name
    n = len(members)
    if zip64:
        z = struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, n, n, len(cen), len(out))
        loc = struct.pack('<IIQI', 0x07064b50, 0, len(out) + len(cen), 1)
        end = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xffff, 0xffff, 0xffffffff, 0xffffffff, 0)
        return out + cen + z + loc + end
    end = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n, len(cen), len(out), 0)
    return out + cen + end

a, b = npy(L[0]), npy(L[1])
put('npz', 'zip64.npz', mk([('layer_0.npy', 0, a, zlib.crc32(a), len(a), None),
                            ('layer_1.npy', 8, deflate(b), zlib.crc32(b), len(b), None)], zip64=True))
put('npz', 'bad_trunc.npz', named[:len(named) // 2])
put('npz', 'bad_crc.npz', mk([('layer_0.npy', 0, a, zlib.crc32(a) ^ 1, len(a), None)]))
put('npz', 'bad_ratio.npz', mk([('arr_0.npy', 8, deflate(a), zlib.crc32(a), 0xfffffff0, None)]))
put('npz', 'bad_sizes.npz', mk([('arr_0.npy', 0, a, zlib.crc32(a), len(a) + 1, None)]))
put('npz', 'bad_longer.npz', mk([('arr_0.npy', 8, deflate(a + bytes(9)), zlib.crc32(a), len(a), None)]))
inner = struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 0, 0, 0x21, zlib.crc32(b), len(b), len(b), 9, 0) + b'arr_1.npy' + b
put('npz', 'bad_overlap.npz', mk([('arr_0.npy', 0, inner, zlib.crc32(inner), len(inner), None),
                                  ('arr_1.npy', 0, b, zlib.crc32(b), len(b), 39)]))
put('npz', 'bad_offset.npz', mk([('arr_0.npy', 0, a, zlib.crc32(a), len(a), 0xfffffff0)]))
put('npz', 'bad_name.npz', mk([('arr_0.txt', 0, a, zlib.crc32(a), len(a), None)]))
put('npz', 'bad_dup.npz', mk([('arr_0.npy', 0, a, zlib.crc32(a), len(a), None), ('arr_0.npy', 0, b, zlib.crc32(b), len(b), None)]))
put('npz', 'bad_chain.npz', saved(np.savez, layer_0=L[0], layer_1=M(1, 4, 1)))
put('npz', 'bad_nan.npz', saved(np.savez, layer_0=L[0] * np.nan, layer_1=L[1]))
